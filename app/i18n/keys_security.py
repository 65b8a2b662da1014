"""Catalogue keys for issue 19: second-administrator approval of roles, and the rest of the
security work: key -> (vi, en)."""

KEYS: dict[str, tuple[str, str]] = {
    "account.second_admin_needed": (
        "Cần một quản trị viên khác phê duyệt yêu cầu này.",
        "Another administrator must approve this request.",
    ),
    "admin_ui.role_pending": (
        "Đã gửi yêu cầu. Tài khoản vừa là quản trị viên vừa xem được hồ sơ đối tượng chỉ được "
        "cấp khi một quản trị viên khác phê duyệt.",
        "Request sent. An account that is an administrator and can read client records is "
        "granted only when another administrator approves.",
    ),
    "account.password_context": (
        "Mật khẩu không được dựa trên tên ứng dụng, tên đăng nhập hay họ tên của bạn.",
        "The password must not be built on the app's name, your username or your name.",
    ),
    "client.lookup_throttled": (
        "Bạn đã tra cứu quá nhiều số định danh trong một giờ. Vui lòng thử lại sau.",
        "Too many ID number look-ups in one hour. Please try again later.",
    ),
    "sup.dup.elsewhere_title": (
        "Trùng số định danh với hồ sơ ngoài địa bàn",
        "Same ID number as a record outside your area",
    ),
    "sup.dup.elsewhere_explain": (
        "Những hồ sơ này có cùng số định danh với một hồ sơ ở địa bàn khác. Hãy liên hệ "
        "quản trị viên để đối chiếu và gộp.",
        "These records share their ID number with a record in another area. Ask an "
        "administrator to compare and merge them.",
    ),
    "admin_ui.pending_title": ("Chờ phê duyệt", "Waiting for approval"),
    "admin_ui.approve": ("Phê duyệt", "Approve"),
    "admin_ui.reject": ("Từ chối", "Reject"),
    "admin_ui.role_approved": ("Đã phê duyệt và cấp vai trò.", "Approved: the role is granted."),
    "admin_ui.role_rejected": ("Đã từ chối yêu cầu.", "Request rejected."),
}
