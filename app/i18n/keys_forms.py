"""Catalogue keys of the forms answered in the page (issue 18 item 4) on the sign-in, account
and administration screens: key -> (Vietnamese, English)."""

KEYS: dict[str, tuple[str, str]] = {
    # ---- sign-in: said under the empty field ----
    "signin.login_required": (
        "Vui lòng nhập tên đăng nhập hoặc số điện thoại.",
        "Please type your username or phone number.",
    ),
    "signin.password_required": ("Vui lòng nhập mật khẩu.", "Please type your password."),
    # ---- the account screen ----
    "account_ui.new_required": ("Vui lòng nhập mật khẩu mới.", "Please type the new password."),
}
