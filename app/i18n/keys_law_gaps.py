"""Issue 16's remaining gaps: the determination a voluntary registration needs, the overlap
of pending-compulsory management and voluntary rehab, reduction bounds, dismissed post-rehab
proposals, terms kept as they are, and the 24-hour clocks counted in hours."""

KEYS: dict[str, tuple[str, str]] = {
    "error.determination_required": (
        "Đăng ký cai nghiện tự nguyện cần kết quả xác định là nghiện còn hiệu lực (Nghị định "
        "109/2021): ghi kết quả xác định ở mục Hồ sơ pháp lý trước.",
        "A voluntary rehab registration needs a valid determination of dependence (Decree "
        "109/2021): record the determination on the legal records page first."),
    "error.determination_expired": (
        "Kết quả xác định là nghiện đã hết hiệu lực vào ngày đăng ký (Nghị định 109/2021): "
        "cần xác định lại tình trạng nghiện.",
        "The determination of dependence was no longer valid on the registration date "
        "(Decree 109/2021): the person needs a new determination."),
    "error.overlap.pending_voluntary": (
        "Đang lập hồ sơ đưa vào cơ sở cai nghiện bắt buộc: không đăng ký cai nghiện tự nguyện "
        "cùng lúc (Điều 44-45 Nghị định 116/2021); kết thúc đợt cai nghiện tự nguyện trước khi "
        "lập hồ sơ.",
        "A compulsory-rehab dossier is being prepared: no voluntary rehab at the same time "
        "(Decree 116/2021 Art 44-45); the voluntary rehab ends before the dossier is opened."),
    "error.reduction_bounds_law": (
        "Mỗi lần giảm thời hạn phải từ {low} đến {high} tháng theo quy định áp dụng cho đợt này.",
        "One reduction must be from {low} to {high} months under the rule of this episode."),
    "error.reduction_bounds": (
        "Giới hạn giảm: điền cả hai ô, từ 1 đến thời hạn tối đa, ô nhỏ không lớn hơn ô lớn.",
        "Reduction bounds: fill both, from 1 to the maximum term, the lower not above the "
        "upper."),
    "error.reason_required": ("Cần ghi lý do.", "Enter the reason."),
    # --- post-rehab proposals, terms kept ------------------------------------------------
    "law.deadline.dismiss": ("Không mở quản lý sau cai", "No post-rehab management"),
    "law.deadline.dismiss_reason": ("Lý do không mở", "Reason"),
    "law.deadline.dismiss_confirm": ("Xác nhận không mở", "Confirm: none"),
    "law.deadline.dismissed": ("Đã ghi: không mở quản lý sau cai.",
                               "Recorded: no post-rehab management."),
    "law.terms.keep": ("Giữ nguyên", "Keep as is"),
    "law.terms.kept": ("Đã giữ nguyên thời hạn của {count} đợt.",
                       "{count} episodes kept as they are."),
    # --- 24-hour clocks ---------------------------------------------------------------------
    "law.deadline.in_hours": ("Còn {hours} giờ", "{hours} h left"),
    "law.deadline.overdue_hours": ("Quá hạn {hours} giờ", "{hours} h overdue"),
    "law.move.moved_time": ("Giờ chuyển đi (nếu biết)", "Time of the move (if known)"),
    "law.move.notice_sent_time": ("Giờ gửi thông báo (nếu biết)",
                                  "Time the notice was sent (if known)"),
    "rec.test.time": ("Giờ xét nghiệm (nếu biết)", "Time of the test (if known)"),
    # --- admin rules -------------------------------------------------------------------------
    "law.rules.reduction_min": ("Giảm ít nhất (tháng, nếu có)",
                                "Reduction at least (months, if any)"),
    "law.rules.reduction_max": ("Giảm nhiều nhất (tháng, nếu có)",
                                "Reduction at most (months, if any)"),
    "law.rules.reduction": ("Giảm mỗi lần", "One reduction"),
    "law.rules.overlaps": ("Các đợt không được chạy cùng lúc",
                           "Episodes that may not run together"),
    "law.rules.overlap.ends_live": ("kết thúc đợt đang chạy", "ends the running one"),
    "law.rules.overlap.refuse": ("bị từ chối", "refused"),
}
