"""Catalogue keys of issue 15 (a province adopts the app): deployment settings, facilities,
the new import sheets, report labels. key -> (vi, en)."""

KEYS: dict[str, tuple[str, str]] = {
    # ---- navigation
    "nav.settings": ("Cài đặt", "Settings"),
    "nav.facilities": ("Cơ sở", "Facilities"),
    # ---- /admin/settings
    "deploy.organisation_name": ("Tên cơ quan, đơn vị", "Organisation or department"),
    "deploy.organisation_hint": (
        "In ở đầu báo cáo và tệp xuất, ví dụ: Sở Y tế tỉnh Đồng Tháp.",
        "Printed at the top of reports and exports, e.g. Đồng Tháp Department of Health.",
    ),
    "deploy.programme_name": ("Tên chương trình trên thẻ", "Programme name on cards"),
    "deploy.programme_hint": (
        "Tên trung tính in trên thẻ QR; không ghi chữ “ma túy”. Để trống: Chương trình Đồng Hành.",
        "A neutral name printed on QR cards; never the word “drugs”. Empty: "
        "Chương trình Đồng Hành.",
    ),
    "deploy.public_url": ("Địa chỉ công khai", "Public address"),
    "deploy.public_url_hint": (
        "Địa chỉ https mà mã QR trên thẻ dẫn tới, ví dụ https://donghanh.tinh.gov.vn.",
        "The https address QR cards link to, e.g. https://donghanh.tinh.gov.vn.",
    ),
    "deploy.contact_line": ("Thông tin liên hệ", "Contact line"),
    "deploy.contact_hint": (
        "In cuối báo cáo, ví dụ: Phòng Phòng chống tệ nạn xã hội — 0277 3851 234.",
        "Printed under reports, e.g. Social Evils Prevention Office — 0277 3851 234.",
    ),
    "deploy.save": ("Lưu cài đặt", "Save settings"),
    "deploy.saved": ("Đã lưu cài đặt.", "Settings saved."),
    "deploy.logo": ("Biểu trưng (logo)", "Logo"),
    "deploy.logo_hint": (
        "Ảnh PNG, JPEG hoặc WebP, tối đa 1 MB; in trên báo cáo, tệp xuất và thẻ.",
        "A PNG, JPEG or WebP image up to 1 MB; printed on reports, exports and cards.",
    ),
    "deploy.no_logo": ("Chưa có logo.", "No logo yet."),
    "deploy.choose_logo": ("Chọn ảnh", "Choose an image"),
    "deploy.upload_logo": ("Tải logo lên", "Upload the logo"),
    "deploy.remove_logo": ("Xóa logo", "Remove the logo"),
    "deploy.logo_saved": ("Đã lưu logo.", "Logo saved."),
    "deploy.logo_removed": ("Đã xóa logo.", "Logo removed."),
    "deploy.error.public_url": (
        "Nhập một địa chỉ https đầy đủ, ví dụ https://donghanh.tinh.gov.vn.",
        "Enter a full https address, e.g. https://donghanh.tinh.gov.vn.",
    ),
    "deploy.error.logo_type": (
        "Tệp không phải ảnh PNG, JPEG hoặc WebP.",
        "The file is not a PNG, JPEG or WebP image.",
    ),
    "deploy.error.logo_size": (
        "Ảnh quá lớn (tối đa 1 MB).", "The image is too large (1 MB at most).",
    ),
    "deploy.public_url_missing": (
        "Chưa đặt địa chỉ công khai: mã QR trên thẻ chỉ chứa mã thẻ, camera điện thoại sẽ "
        "không mở được ứng dụng. Hãy đặt địa chỉ trước khi in thẻ.",
        "No public address yet: card QR codes hold only the card code, and a phone camera "
        "cannot open the app from them. Set the address before printing cards.",
    ),
    "deploy.card_no_public_url": (
        "Quản trị viên chưa đặt địa chỉ công khai: mã QR chỉ quét được bằng ứng dụng.",
        "The administrator has not set the public address: this QR can be scanned only "
        "from within the app.",
    ),
    "deploy.contact": ("Liên hệ: {line}", "Contact: {line}"),
    # ---- reports
    "report.open_list_of": (
        "Xem danh sách: {figure} ({value})", "Show the list: {figure} ({value})",
    ),
    # ---- facilities
    "facility.error.not_providing": (
        "Cơ sở này không cung cấp dịch vụ đã chọn.",
        "This facility does not provide the chosen service.",
    ),
    "facility.error.services": (
        "Chọn ít nhất một dịch vụ cơ sở cung cấp.",
        "Choose at least one service the facility provides.",
    ),
    "facility.intro": (
        "Các cơ sở điều trị, cai nghiện, y tế, trợ giúp pháp lý, dạy nghề của tỉnh. Phiếu chuyển "
        "gửi chỉ gợi ý cơ sở cung cấp dịch vụ đã chọn.",
        "The province's treatment, rehab, health, legal-aid and vocational facilities. The "
        "referral form offers a facility only for a service it provides.",
    ),
    "facility.province": ("Tỉnh, thành phố", "Province"),
    "facility.pick_province": ("— Chọn tỉnh —", "— Choose a province —"),
    "facility.add": ("Thêm cơ sở", "Add a facility"),
    "facility.new_title": ("Thêm cơ sở mới", "New facility"),
    "facility.edit_title": ("Sửa thông tin cơ sở", "Edit the facility"),
    "facility.edit": ("Sửa", "Edit"),
    "facility.name": ("Tên cơ sở", "Name"),
    "facility.kind": ("Loại cơ sở", "Type"),
    "facility.commune": ("Xã, phường", "Commune"),
    "facility.address": ("Địa chỉ", "Address"),
    "facility.services": ("Dịch vụ cung cấp", "Services provided"),
    "facility.staff": ("Tài khoản nhân viên", "Staff accounts"),
    "facility.active": ("Đang hoạt động", "Active"),
    "facility.inactive": ("Ngừng hoạt động", "Inactive"),
    "facility.active_label": ("Đang hoạt động (bỏ chọn để ngừng)", "Active (untick to deactivate)"),
    "facility.save": ("Lưu cơ sở", "Save the facility"),
    "facility.saved": ("Đã lưu cơ sở “{name}”.", "Facility “{name}” saved."),
    "facility.none": ("Tỉnh này chưa có cơ sở nào.", "This province has no facility yet."),
    "facility.kind.treatment_clinic": (
        "Cơ sở điều trị (Methadone)", "Treatment clinic (methadone)",
    ),
    "facility.kind.rehab_facility": ("Cơ sở cai nghiện ma túy", "Drug rehab facility"),
    "facility.kind.health_facility": ("Cơ sở y tế", "Health facility"),
    "facility.kind.legal_aid": ("Trợ giúp pháp lý", "Legal aid"),
    "facility.kind.vocational_school": ("Cơ sở dạy nghề", "Vocational school"),
    "facility.service.methadone": ("Điều trị Methadone", "Methadone"),
    "facility.service.treatment": ("Điều trị nghiện", "Addiction treatment"),
    "facility.service.voluntary_rehab": ("Cai nghiện tự nguyện", "Voluntary rehab"),
    "facility.service.compulsory_rehab": ("Cai nghiện bắt buộc", "Compulsory rehab"),
    "facility.service.health": ("Y tế (khám, xét nghiệm, HIV)", "Health (checks, tests, HIV)"),
    "facility.service.legal": ("Pháp lý, giấy tờ", "Legal, identity papers"),
    "facility.service.vocational": ("Dạy nghề, việc làm", "Vocational training, jobs"),
    # ---- episodes recorded from a register
    "episode.error.end_pair": (
        "Ngày kết thúc và lý do kết thúc phải ghi cùng nhau.",
        "The end date and the end reason go together.",
    ),
    # ---- import
    "import.error.date_invalid": (
        "Ngày này không có trên lịch (ví dụ 31/02/2022).",
        "This date does not exist (e.g. 31/02/2022).",
    ),
    "import.error.unknown_referral": (
        "Không tìm thấy lần chuyển gửi còn mở với cùng đối tượng, dịch vụ và ngày chuyển gửi.",
        "No open referral of this client for this service on this date.",
    ),
    "import.error.not_rehab_facility": (
        "Cơ sở này không phải cơ sở cai nghiện ma túy.",
        "This organisation is not a drug rehab facility.",
    ),
    "import.error.unknown_class": (
        "Không có lớp học nghề này (cùng cơ sở, tên lớp và ngày khai giảng) ở sheet Lớp học nghề.",
        "No such vocational class (same facility, name and start date) in the sheet Lớp học nghề.",
    ),
}
