"""Catalogue keys for QR client cards: scanning, issuing, printing, attendance."""

KEYS: dict[str, tuple[str, str]] = {
    # Scan results (ScanResult.message_key)
    "card.scan.ok": ("Đã nhận ra thẻ.", "Card recognised."),
    "card.scan.not_found": (
        "Không tìm thấy thẻ này.",
        "This card was not found.",
    ),
    "card.scan.revoked": ("Thẻ này đã bị thu hồi.", "This card has been revoked."),
    "card.scan.revoked_replaced": (
        "Thẻ này đã bị thu hồi. Vui lòng dùng thẻ mới.",
        "This card has been revoked. Please use the new card.",
    ),
    "card.scan.invalid": (
        "Mã không hợp lệ. Vui lòng kiểm tra lại từng ký tự.",
        "This is not a valid code. Please check each character.",
    ),
    # Errors (DomainError keys)
    "card.error.scan_throttled": (
        "Bạn đã quét quá nhiều lần. Vui lòng thử lại sau 10 phút.",
        "Too many scans. Please try again in 10 minutes.",
    ),
    "card.error.client_inactive": (
        "Chỉ cấp thẻ cho đối tượng đang được quản lý.",
        "Cards are only issued to clients under active management.",
    ),
    "card.error.already_revoked": ("Thẻ này đã bị thu hồi.", "This card is already revoked."),
    "card.error.has_active_card": (
        "Đối tượng này đã có thẻ đang dùng: chọn in lại nếu cần thẻ mới.",
        "This client already has a card in use: choose reprinting if a new one is needed.",
    ),
    "card.error.no_active_card": (
        "Đối tượng chưa có thẻ đang dùng.",
        "The client has no active card.",
    ),
    "card.error.referral_not_open": (
        "Giấy chuyển gửi này đã được xử lý.",
        "This referral has already been dealt with.",
    ),
    # Card status
    "card.status.active": ("Đang dùng", "Active"),
    "card.status.revoked": ("Đã thu hồi", "Revoked"),
    # Revocation reasons
    "card.reason.lost": ("Mất thẻ", "Lost"),
    "card.reason.stolen": ("Bị lấy cắp", "Stolen"),
    "card.reason.damaged": ("Hỏng thẻ", "Damaged"),
    "card.reason.withdrawn": ("Thu hồi", "Withdrawn"),
    "card.reason.other": ("Lý do khác", "Other"),
    "card.reason.reissued": ("Đã cấp thẻ mới", "Replaced by a new card"),
    # Labels for the card screens
    "card.programme_name": ("Tên chương trình in trên thẻ", "Programme name printed on cards"),
    "card.title": ("Thẻ", "Card"),
    "card.issue": ("Cấp thẻ", "Issue card"),
    "card.reissue": ("Cấp lại thẻ", "Reissue card"),
    "card.revoke": ("Thu hồi thẻ", "Revoke card"),
    "card.history": ("Lịch sử thẻ", "Card history"),
    "card.code": ("Mã thẻ", "Card code"),
    "card.code_hint": (
        "Nhập mã in dưới mã QR (ví dụ 7KQ2-M9XD-4R-C)",
        "Type the code printed under the QR (e.g. 7KQ2-M9XD-4R-C)",
    ),
    "card.issued_at": ("Ngày cấp", "Issued on"),
    "card.revoked_at": ("Ngày thu hồi", "Revoked on"),
    "card.print_id1": ("In thẻ (85,6 × 54 mm)", "Print card (85.6 × 54 mm)"),
    "card.print_a4": ("In trên giấy A4", "Print on A4 sheets"),
    "card.scan": ("Quét thẻ", "Scan card"),
    "card.scan_camera": ("Dùng camera", "Use camera"),
    "card.scan_type_code": ("Nhập mã", "Type the code"),
    "card.view.age": ("{age} tuổi", "{age} years old"),
    "card.view.no_photo": ("Chưa có ảnh", "No photo"),
    "card.view.referrals": ("Chuyển gửi đến cơ sở của bạn", "Referrals to your facility"),
    "card.view.no_referrals": (
        "Không có chuyển gửi nào đang mở đến cơ sở của bạn.",
        "No open referrals to your facility.",
    ),
    "card.attendance.record": ("Ghi nhận đã đến", "Record attendance"),
    "card.attendance.recorded": (
        "Đã ghi nhận: đối tượng đã đến và sử dụng dịch vụ.",
        "Recorded: the client attended and used the service.",
    ),
    # Audit-trail action names written by the card services (for the audit viewer)
    "card.show": ("Xem mã QR của thẻ", "Viewed a card's QR"),
    "card.print": ("In thẻ", "Printed cards"),
    "card.attendance": ("Ghi nhận đến cơ sở", "Recorded attendance"),
}
