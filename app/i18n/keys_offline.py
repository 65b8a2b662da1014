"""Working without a connection: the offline panel, its forms and sync outcomes."""

KEYS: dict[str, tuple[str, str]] = {
    "offline.panel.label": ("Bản ghi khi mất mạng", "Records made offline"),
    "offline.panel.title": ("Ghi khi mất mạng", "Working offline"),
    "offline.mode": (
        "Đang mất kết nối. Bạn vẫn ghi được lần thăm, tiếp cận và xét nghiệm cho người trong "
        "danh sách hôm nay. Bản ghi được mã hóa trên máy và tự gửi khi có mạng.",
        "You are offline. You can still log visits, outreach contacts and drug tests for the "
        "people on today's list. Records are encrypted on this device and sent automatically "
        "when the connection returns.",
    ),
    "offline.counts": (
        "{waiting} đang chờ gửi · {sent} đã gửi · {rejected} bị từ chối",
        "{waiting} waiting · {sent} sent · {rejected} rejected",
    ),
    "offline.locked": (
        "{count} bản ghi đang chờ, được mã hóa trên máy này. Chúng sẽ được gửi khi có mạng và "
        "bạn đã đăng nhập.",
        "{count} records are waiting, encrypted on this device. They will be sent once you "
        "are online and signed in.",
    ),
    "offline.no_key": (
        "Để ghi khi mất mạng trên thẻ này, cần có mạng và đăng nhập một lần.",
        "To record offline in this tab, connect and sign in once first.",
    ),
    "offline.need_signin": (
        "Phiên đăng nhập đã hết. Hãy đăng nhập lại để gửi các bản ghi đang chờ; chúng vẫn "
        "được giữ an toàn.",
        "Your session has ended. Sign in again to send the waiting records; they are kept "
        "safe meanwhile.",
    ),
    "offline.signin": ("Đăng nhập", "Sign in"),
    "offline.sending": ("Đang gửi…", "Sending…"),
    "offline.saved": (
        "Đã lưu trên máy. Sẽ tự gửi khi có mạng.",
        "Saved on this device. It will be sent when the connection returns.",
    ),
    "offline.action.visit": ("Ghi lần thăm", "Log a visit"),
    "offline.action.contact": ("Ghi tiếp cận", "Log an outreach contact"),
    "offline.action.test": ("Ghi xét nghiệm", "Record a drug test"),
    "offline.kind.visit": ("Lần thăm", "Visit"),
    "offline.kind.contact": ("Tiếp cận", "Outreach contact"),
    "offline.kind.test": ("Xét nghiệm", "Drug test"),
    "offline.status.waiting": ("Đang chờ gửi", "Waiting"),
    "offline.status.sent": ("Đã gửi", "Sent"),
    "offline.status.rejected": ("Bị từ chối", "Rejected"),
    "offline.fix": ("Sửa và gửi lại", "Fix and resend"),
    "offline.send_anyway": ("Vẫn gửi", "Send anyway"),
    "offline.discard": ("Xóa", "Discard"),
    "offline.discard_confirm": (
        "Xóa bản ghi này khỏi máy? Nó sẽ không được gửi.",
        "Remove this record from the device? It will not be sent.",
    ),
    "offline.signout_confirm": (
        "Còn {count} bản ghi chưa gửi trên máy này. Đăng xuất sẽ xóa chúng vĩnh viễn. "
        "Vẫn đăng xuất?",
        "{count} records on this device have not been sent. Signing out deletes them for "
        "good. Sign out anyway?",
    ),
    "offline.save": ("Lưu trên máy", "Save on this device"),
    "offline.cancel": ("Hủy", "Cancel"),
    "offline.field.client": ("Người được hỗ trợ", "Client"),
    "offline.field.client_none": ("— Không gắn với ai —", "— Not linked to a client —"),
    "offline.field.date": ("Ngày", "Date"),
    "offline.field.visit_kind": ("Hình thức", "Kind of visit"),
    "offline.field.content": ("Nội dung", "Content"),
    "offline.field.notes": ("Tình hình ghi nhận", "Observed situation"),
    "offline.field.next": ("Hẹn lần sau (không bắt buộc)", "Next appointment (optional)"),
    "offline.field.place": ("Địa bàn", "Place"),
    "offline.field.category": ("Nhóm người được tiếp cận", "Who was reached"),
    "offline.field.count": ("Số người", "Number of people"),
    "offline.field.topic": ("Chủ đề", "Topic"),
    "offline.field.result": ("Kết quả", "Result"),
    "offline.visit_kind.home": ("Thăm tại nhà", "Home visit"),
    "offline.visit_kind.phone": ("Điện thoại / Zalo", "Phone / Zalo"),
    "offline.visit_kind.community_meeting": ("Gặp tại cộng đồng", "Community meeting"),
    "offline.visit_kind.clinic_attendance": ("Gặp tại cơ sở điều trị", "Clinic attendance"),
    "offline.content.counselling": ("Tư vấn", "Counselling"),
    "offline.content.education": ("Tuyên truyền, giáo dục", "Education"),
    "offline.content.support": ("Hỗ trợ", "Support"),
    "offline.category.pwud": ("Người sử dụng ma túy", "People who use drugs"),
    "offline.category.relative": ("Người thân", "Relatives"),
    "offline.category.hiv": ("Người nhiễm HIV", "People living with HIV"),
    "offline.category.high_risk": ("Nhóm nguy cơ cao", "High-risk group"),
    "offline.category.student": ("Học sinh, sinh viên", "Students"),
    "offline.category.other": ("Khác", "Other"),
    "offline.result.negative": ("Âm tính", "Negative"),
    "offline.result.positive": ("Dương tính", "Positive"),
    "offline.result.invalid": ("Không xác định được", "Invalid"),
    "offline.due.appointment": ("lịch hẹn", "appointment"),
    "offline.due.referral_open": ("chuyển gửi đang mở", "open referral"),
    "offline.due.not_visited": ("lâu chưa thăm", "not visited lately"),
    "offline.due.episode_ending": ("sắp hết đợt", "episode ending"),
    "offline.due.episode_overdue": ("quá hạn đợt", "episode overdue"),
    "offline.error.required": ("Cần điền mục này.", "This is required."),
    "offline.error.batch_too_large": (
        "Gửi nhiều nhất {max} bản ghi mỗi lần.",
        "At most {max} records can be sent at once.",
    ),
    "offline.reason.client_unavailable": (
        "Người này không còn do bạn phụ trách (đã chuyển người phụ trách, chuyển địa bàn hoặc "
        "gộp hồ sơ). Hãy báo cán bộ quản lý.",
        "This client is no longer assigned to you (reassigned, moved or merged). Tell your "
        "supervisor.",
    ),
    "offline.reason.client_closed": (
        "Hồ sơ của người này đã đóng trong lúc bản ghi chờ gửi. Kiểm tra lại rồi chọn "
        "“Vẫn gửi” nếu đúng.",
        "This client's case was closed while the record was waiting. Check, then choose "
        "“Send anyway” if it is right.",
    ),
    "offline.reason.episode_closed": (
        "Đợt quản lý của người này đã kết thúc trong lúc bản ghi chờ gửi. Kiểm tra lại rồi "
        "chọn “Vẫn gửi” nếu đúng.",
        "This client's episode was closed while the record was waiting. Check, then choose "
        "“Send anyway” if it is right.",
    ),
}
