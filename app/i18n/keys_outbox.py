"""The device outbox (issue 14): sync outcomes, the review list and the supervisor's screen."""

KEYS: dict[str, tuple[str, str]] = {
    # --- why a record was kept for review, or is waiting --------------------------------------
    "outbox.reason.client_unavailable": (
        "Người này không còn do bạn phụ trách (đã chuyển người phụ trách, chuyển địa bàn hoặc "
        "gộp hồ sơ). Bản ghi được giữ lại để cán bộ quản lý xem xét.",
        "This client is no longer assigned to you (reassigned, moved or merged). The record is "
        "kept for your supervisor to review.",
    ),
    "outbox.reason.client_closed": (
        "Hồ sơ của người này đã đóng trong lúc bản ghi chờ gửi. Kiểm tra lại rồi chọn "
        "“Vẫn gửi” nếu đúng.",
        "This client's case was closed while the record was waiting. Check, then choose "
        "“Send anyway” if it is right.",
    ),
    "outbox.reason.episode_closed": (
        "Đợt quản lý của người này đã kết thúc trong lúc bản ghi chờ gửi. Kiểm tra lại rồi "
        "chọn “Vẫn gửi” nếu đúng.",
        "This client's episode was closed while the record was waiting. Check, then choose "
        "“Send anyway” if it is right.",
    ),
    "outbox.reason.rule": (
        "Bản ghi chưa đúng quy định. Sửa các mục được đánh dấu rồi gửi lại.",
        "The record breaks a rule. Correct the marked fields and send it again.",
    ),
    "outbox.reason.not_allowed": (
        "Bạn không được ghi việc này ở địa bàn đó. Bản ghi được giữ lại để cán bộ quản lý "
        "xem xét.",
        "You may not record this in that place. The record is kept for your supervisor to "
        "review.",
    ),
    "outbox.reason.registration_dismissed": (
        "Đăng ký người này đã bị bỏ qua, nên bản ghi chưa gắn được với ai. Cán bộ quản lý sẽ "
        "xem xét.",
        "This person's registration was dismissed, so the record has nobody to belong to. "
        "Your supervisor will review it.",
    ),
    "outbox.reason.dismissed": (
        "Cán bộ quản lý đã bỏ qua bản ghi này.",
        "Your supervisor dismissed this record.",
    ),
    "outbox.reason.temp_client_pending": (
        "Đang chờ đăng ký người này được xử lý; bản ghi sẽ được gửi sau.",
        "Waiting for this person's registration; the record will be sent afterwards.",
    ),
    "outbox.reason.possible_duplicate": (
        "Có thể người này đã có hồ sơ ({count}). Đây có phải cùng một người không?",
        "This person may already be registered ({count}). Is it the same person?",
    ),
    "outbox.reason.invalid": (
        "Bản ghi bị hỏng, không đọc được.",
        "The record is damaged and cannot be read.",
    ),
    "outbox.sup.client_unavailable": (
        "Người ghi không còn phụ trách đối tượng này (đã chuyển người phụ trách, chuyển địa bàn "
        "hoặc gộp hồ sơ) khi bản ghi được gửi.",
        "The volunteer no longer looked after this client (reassigned, moved or merged) when "
        "the record arrived.",
    ),
    "outbox.sup.not_allowed": (
        "Người ghi không được ghi việc này ở địa bàn đó.",
        "The volunteer may not record this in that place.",
    ),
    "outbox.error.not_pending": (
        "Bản ghi này đã được xử lý.",
        "This record has already been dealt with.",
    ),
    "outbox.error.reason_required": (
        "Ghi lý do (ít nhất 3 ký tự).",
        "Give a reason (at least 3 characters).",
    ),
    "outbox.error.choose_client": (
        "Chọn đối tượng để áp dụng bản ghi.",
        "Choose the client to apply the record to.",
    ),
    "outbox.error.batch_too_large": (
        "Gửi nhiều nhất {max} bản ghi mỗi lần.",
        "At most {max} records can be sent at once.",
    ),
    "outbox.error.request": (
        "Yêu cầu không hợp lệ.",
        "The request is not valid.",
    ),
    # --- record kinds ---------------------------------------------------------------------------
    "outbox.kind.visit": ("Lần thăm", "Visit"),
    "outbox.kind.outreach_contact": ("Tiếp cận", "Outreach contact"),
    "outbox.kind.drug_test": ("Xét nghiệm", "Drug test"),
    "outbox.kind.referral": ("Chuyển gửi", "Referral"),
    "outbox.kind.support": ("Hỗ trợ", "Support"),
    "outbox.kind.group_activity": ("Sinh hoạt nhóm", "Group activity"),
    "outbox.kind.client": ("Đăng ký đối tượng", "Client registration"),
    # --- the supervisor's review screen ---------------------------------------------------------
    "outbox.review.nav": ("Bị từ chối", "Refused"),
    "outbox.review.title": ("Bản ghi bị từ chối khi gửi", "Records refused at sync"),
    "outbox.review.intro": (
        "Tình nguyện viên đã ghi những bản ghi này nhưng máy chủ chưa nhận được. Xem nội dung, "
        "rồi áp dụng cho đúng đối tượng hoặc bỏ qua kèm lý do.",
        "Volunteers recorded these but the server could not accept them. Read each one, then "
        "apply it to the right client or dismiss it with a reason.",
    ),
    "outbox.review.waiting": (
        "Bản ghi của tình nguyện viên bị từ chối, chờ bạn xem xét:",
        "Volunteers' records refused at sync, waiting for you:",
    ),
    "outbox.review.empty": (
        "Không có bản ghi nào chờ xem xét.",
        "No records are waiting for review.",
    ),
    "outbox.review.by": ("Người ghi: {name}", "Recorded by: {name}"),
    "outbox.review.received": ("Nhận lúc {time}", "Received at {time}"),
    "outbox.review.saved": ("Ghi trên máy lúc {time}", "Saved on the device at {time}"),
    "outbox.review.reason": ("Lý do", "Reason"),
    "outbox.review.content": ("Nội dung bản ghi", "The record"),
    "outbox.review.client_named": ("Đối tượng trong bản ghi", "Client named in the record"),
    "outbox.review.open": ("Xem", "Open"),
    "outbox.review.back": ("Quay lại danh sách", "Back to the list"),
    "outbox.review.search": ("Tìm đối tượng (tên, CCCD, số điện thoại)",
                             "Find a client (name, ID number, phone)"),
    "outbox.review.search_button": ("Tìm", "Search"),
    "outbox.review.choose": ("Chọn", "Choose"),
    "outbox.review.chosen": ("Áp dụng cho:", "Apply to:"),
    "outbox.review.apply": ("Áp dụng", "Apply"),
    "outbox.review.apply_new": ("Đăng ký người mới", "Register as a new person"),
    "outbox.review.link": ("Là người đã chọn", "Is the chosen person"),
    "outbox.review.dismiss_reason": ("Lý do bỏ qua", "Reason for dismissing"),
    "outbox.review.dismiss": ("Bỏ qua", "Dismiss"),
    "outbox.review.applied": ("Đã áp dụng bản ghi.", "The record was applied."),
    "outbox.review.dismissed": ("Đã bỏ qua bản ghi.", "The record was dismissed."),
    "outbox.review.none_found": ("Không tìm thấy ai.", "Nobody found."),
    # --- field names of a kept record, as the supervisor reads it ----------------------------
    "outbox.field.client_id": ("Đối tượng", "Client"),
    "outbox.field.visit_date": ("Ngày thăm", "Visit date"),
    "outbox.field.kind": ("Loại", "Kind"),
    "outbox.field.content": ("Nội dung", "Content"),
    "outbox.field.notes": ("Ghi chú", "Notes"),
    "outbox.field.risk_flags": ("Dấu hiệu nguy cơ", "Risk flags"),
    "outbox.field.next_appointment": ("Hẹn lần sau", "Next appointment"),
    "outbox.field.contact_date": ("Ngày tiếp cận", "Contact date"),
    "outbox.field.place_id": ("Địa bàn", "Place"),
    "outbox.field.category": ("Nhóm", "Category"),
    "outbox.field.count": ("Số người", "Number of people"),
    "outbox.field.topic": ("Chủ đề", "Topic"),
    "outbox.field.tested_on": ("Ngày xét nghiệm", "Test date"),
    "outbox.field.result": ("Kết quả", "Result"),
    "outbox.field.sample": ("Mẫu", "Sample"),
    "outbox.field.method": ("Phương pháp", "Method"),
    "outbox.field.substances": ("Chất", "Substances"),
    "outbox.field.performed_by": ("Người thực hiện", "Performed by"),
    "outbox.field.service": ("Dịch vụ", "Service"),
    "outbox.field.facility_id": ("Cơ sở", "Facility"),
    "outbox.field.referred_on": ("Ngày chuyển gửi", "Referral date"),
    "outbox.field.consent": ("Đồng ý", "Consent"),
    "outbox.field.expires_on": ("Hết hạn", "Expires on"),
    "outbox.field.started_on": ("Ngày bắt đầu", "Start date"),
    "outbox.field.amount_vnd": ("Số tiền (đồng)", "Amount (VND)"),
    "outbox.field.term_months": ("Thời hạn (tháng)", "Term (months)"),
    "outbox.field.fund_source": ("Nguồn vốn", "Fund source"),
    "outbox.field.status": ("Trạng thái", "Status"),
    "outbox.field.held_on": ("Ngày tổ chức", "Date held"),
    "outbox.field.organiser_id": ("Đơn vị tổ chức", "Organiser"),
    "outbox.field.attendees_total": ("Tổng số người dự", "Attendees"),
    "outbox.field.attendees_clients": ("Số đối tượng dự", "Clients attending"),
    "outbox.field.client_ids": ("Đối tượng dự", "Clients present"),
    "outbox.field.full_name": ("Họ và tên", "Full name"),
    "outbox.field.other_names": ("Tên gọi khác", "Other names"),
    "outbox.field.birth_year": ("Năm sinh", "Birth year"),
    "outbox.field.birth_date": ("Ngày sinh", "Date of birth"),
    "outbox.field.sex": ("Giới tính", "Sex"),
    "outbox.field.national_id": ("Số CCCD", "ID number"),
    "outbox.field.phone": ("Điện thoại", "Phone"),
    "outbox.field.commune_id": ("Xã/phường", "Commune"),
    "outbox.field.address": ("Địa chỉ", "Address"),
    "outbox.field.former_address": ("Địa chỉ cũ", "Former address"),
    "outbox.field.legal_rep_name": ("Người đại diện", "Legal representative"),
    "outbox.field.legal_rep_phone": ("Điện thoại người đại diện", "Representative's phone"),
    "outbox.field.family_contact": ("Liên hệ gia đình", "Family contact"),
    "outbox.field.priority_group": ("Nhóm ưu tiên", "Priority group"),
    "outbox.field.injects": ("Tiêm chích", "Injects"),
    "outbox.field.hiv_status": ("Tình trạng HIV", "HIV status"),
    "outbox.field.ethnicity": ("Dân tộc", "Ethnicity"),
    "outbox.field.consents": ("Đồng ý của đối tượng", "Consents"),
    "outbox.field.assigned_volunteer_id": ("Tình nguyện viên", "Volunteer"),
}
