"""The drug law's episodes, rules, clocks, records and deadlines (issue 16)."""

KEYS: dict[str, tuple[str, str]] = {
    # --- errors ---------------------------------------------------------------------------
    "error.holiday_exists": ("Ngày này đã là ngày nghỉ.", "This day is already a holiday."),
    "error.required": ("Cần điền mục này.", "This is required."),
    "error.facility_required": ("Cần ghi cơ sở xác định tình trạng nghiện.",
                                "Name the facility that made the determination."),
    "error.monitoring_episode": (
        "Giám sát điện tử chỉ áp dụng cho đợt cai nghiện tự nguyện tại gia đình/cộng đồng, "
        "điều trị methadone hoặc quản lý sau cai đang mở (Điều 12 Luật 120/2025/QH15).",
        "Electronic monitoring applies only to an open voluntary home/community rehab, "
        "methadone or post-rehab episode (Law 120/2025/QH15 Art 12)."),
    "error.monitoring_date": (
        "Quyết định giám sát điện tử phải từ ngày 01/07/2026 (Luật 120/2025/QH15) và không ở "
        "tương lai.",
        "A monitoring decision must be dated from 1 July 2026 (Law 120/2025/QH15) and not in "
        "the future."),
    "error.decision_required": ("Cần ghi số quyết định.", "Enter the decision number."),
    "error.device_required": ("Cần ghi thiết bị giám sát.", "Enter the monitoring device."),
    "error.legal_basis_required": ("Cần ghi căn cứ pháp lý.", "Enter the legal basis."),
    "error.reduction_range": (
        "Số tháng giảm phải từ 1 đến thời hạn còn lại của quyết định.",
        "The months off must be from 1 to what remains of the decided term."),
    "error.no_post_rehab_due": (
        "Không còn đề xuất quản lý sau cai cho đợt này (đã có quyết định).",
        "No post-rehab decision is due for this episode any more (already decided)."),
    "error.term_out_of_bounds": (
        "Thời hạn quyết định nằm ngoài giới hạn luật cho phép vào ngày quyết định.",
        "The decided term is outside the bounds the law allowed on the decision date."),
    "error.term_open_ended": (
        "Loại đợt này không có thời hạn theo luật: để trống ô thời hạn.",
        "The law sets no term for this type: leave the term empty."),
    "error.overlap.one_rehab": (
        "Mỗi người chỉ áp dụng một biện pháp cai nghiện hoặc điều trị thay thế tại một thời "
        "điểm (Luật 73/2021/QH14; Luật 120/2025/QH15).",
        "A person is under one rehab or substitution measure at a time (Law 73/2021/QH14; "
        "Law 120/2025/QH15)."),
    "error.overlap.post_rehab": (
        "Quản lý sau cai bắt đầu khi đợt cai nghiện kết thúc (Điều 40 Luật 73/2021/QH14): "
        "kết thúc đợt cai nghiện trước.",
        "Post-rehab management starts when the rehab ends (Law 73/2021/QH14 Art 40): close "
        "the rehab episode first."),
    "error.overlap.illegal_use": (
        "Quản lý người sử dụng trái phép kết thúc khi xác định là nghiện (Điều 23 Luật "
        "73/2021/QH14): ghi kết quả xác định tình trạng nghiện trước.",
        "Management of illegal use ends when dependence is determined (Law 73/2021/QH14 "
        "Art 23): record the addiction determination first."),
    "error.no_rule_for_age": ("Không có quy định cho độ tuổi này.",
                              "No rule covers this age."),
}
