"""Catalogue keys for the TOTP second factor (issue 19 item 8): key -> (vi, en)."""

KEYS: dict[str, tuple[str, str]] = {
    # ---- errors (services, sign-in) ----
    "auth.code_wrong": (
        "Mã không đúng hoặc đã được dùng. Hãy nhập mã mới nhất trong ứng dụng xác thực.",
        "The code is wrong or was already used. Type the newest code of your authenticator "
        "app.",
    ),
    "auth.second_step_expired": (
        "Bước xác thực thứ hai đã hết hạn. Vui lòng đăng nhập lại.",
        "The second step has expired. Please sign in again.",
    ),
    "auth.second_factor_needed": (
        "Tài khoản này cần mã xác thực hai bước.",
        "This account needs a two-step verification code.",
    ),
    "second_factor.already_on": (
        "Xác thực hai bước đã được bật.",
        "Two-step verification is already on.",
    ),
    "second_factor.not_started": (
        "Hãy bắt đầu lại việc bật xác thực hai bước.",
        "Start setting up two-step verification again.",
    ),
    "second_factor.not_on": (
        "Xác thực hai bước chưa được bật.",
        "Two-step verification is not on.",
    ),
    "second_factor.reset_not_self": (
        "Đây là tài khoản của bạn: hãy tắt hoặc cài lại xác thực hai bước ở trang Cá nhân.",
        "This is your own account: turn two-step verification off or set it up again on your "
        "account page.",
    ),
    # ---- the code page (second step of signing in) ----
    "signin.code_title": ("Xác thực hai bước", "Two-step verification"),
    "signin.code_hint": (
        "Mở ứng dụng xác thực trên điện thoại và nhập mã 6 chữ số của Đồng Hành.",
        "Open the authenticator app on your phone and type Đồng Hành's 6-digit code.",
    ),
    "signin.code_label": ("Mã xác thực", "Verification code"),
    "signin.code_recovery": (
        "Không có điện thoại? Nhập một mã khôi phục (mỗi mã dùng được một lần).",
        "No phone? Type one of your recovery codes (each works once).",
    ),
    "signin.code_submit": ("Xác nhận", "Verify"),
    "signin.code_required": ("Vui lòng nhập mã.", "Please type the code."),
    "signin.code_back": ("Quay lại đăng nhập", "Back to sign in"),
    # ---- the settings screen ----
    "deploy.second_factor": ("Xác thực hai bước bắt buộc", "Two-step verification required"),
    "deploy.second_factor_hint": (
        "Tài khoản của những vai trò được bật phải dùng mã từ ứng dụng xác thực khi đăng "
        "nhập; ai chưa cài sẽ được đưa tới trang Cá nhân để cài trước khi làm việc khác.",
        "Accounts of the roles switched on must give a code of an authenticator app when "
        "signing in; whoever has not set it up is sent to their account page to do so first.",
    ),
    "deploy.error.national_only": (
        "Chỉ quản trị viên toàn quốc được thay đổi điều này.",
        "Only a national administrator may change this.",
    ),
    # ---- the account screen ----
    "second_factor_ui.title": ("Xác thực hai bước", "Two-step verification"),
    "second_factor_ui.intro": (
        "Ngoài mật khẩu, mỗi lần đăng nhập bạn nhập thêm một mã 6 chữ số từ ứng dụng xác "
        "thực trên điện thoại (Google Authenticator, Microsoft Authenticator, FreeOTP…).",
        "Besides your password, each sign-in asks for a 6-digit code from an authenticator "
        "app on your phone (Google Authenticator, Microsoft Authenticator, FreeOTP…).",
    ),
    "second_factor_ui.required": (
        "Vai trò của bạn bắt buộc xác thực hai bước.",
        "Your role requires two-step verification.",
    ),
    "second_factor_ui.must_enrol": (
        "Vai trò của bạn bắt buộc xác thực hai bước. Hãy bật nó ở dưới đây trước khi làm "
        "việc khác.",
        "Your role requires two-step verification. Set it up below before anything else.",
    ),
    "second_factor_ui.start": ("Bật xác thực hai bước", "Set up two-step verification"),
    "second_factor_ui.scan": (
        "1. Quét mã QR này bằng ứng dụng xác thực.",
        "1. Scan this QR code with your authenticator app.",
    ),
    "second_factor_ui.qr_alt": (
        "Mã QR để thêm Đồng Hành vào ứng dụng xác thực",
        "QR code to add Đồng Hành to an authenticator app",
    ),
    "second_factor_ui.secret": (
        "Không quét được? Nhập khóa này vào ứng dụng:",
        "Cannot scan it? Type this key into the app:",
    ),
    "second_factor_ui.confirm_hint": (
        "2. Nhập mã 6 chữ số ứng dụng hiện ra để xác nhận.",
        "2. Type the 6-digit code the app shows to confirm.",
    ),
    "second_factor_ui.code": ("Mã xác thực", "Verification code"),
    "second_factor_ui.confirm": ("Xác nhận và bật", "Confirm and turn on"),
    "second_factor_ui.codes_title": ("Mã khôi phục của bạn", "Your recovery codes"),
    "second_factor_ui.codes_hint": (
        "Chép hoặc in 10 mã này và cất ở nơi an toàn. Mỗi mã thay được mã xác thực một lần "
        "khi bạn không có điện thoại. Chúng chỉ hiện một lần này.",
        "Copy or print these 10 codes and keep them somewhere safe. Each one replaces a "
        "verification code once, when you do not have your phone. They are shown only now.",
    ),
    "second_factor_ui.codes_done": ("Tôi đã cất các mã", "I have saved the codes"),
    "second_factor_ui.on_since": ("Đang bật từ", "On since"),
    "second_factor_ui.codes_left": ("Mã khôi phục còn lại:", "Recovery codes left:"),
    "second_factor_ui.manage_hint": (
        "Để tắt, hoặc để tạo mã khôi phục mới, hãy nhập mật khẩu và một mã xác thực (hoặc "
        "một mã khôi phục).",
        "To turn it off, or to make new recovery codes, type your password and a verification "
        "code (or a recovery code).",
    ),
    "second_factor_ui.password": ("Mật khẩu", "Password"),
    "second_factor_ui.regenerate": ("Tạo mã khôi phục mới", "Make new recovery codes"),
    "second_factor_ui.disable": ("Tắt xác thực hai bước", "Turn two-step verification off"),
    "second_factor_ui.enabled": (
        "Đã bật xác thực hai bước.",
        "Two-step verification is on.",
    ),
    "second_factor_ui.disabled": (
        "Đã tắt xác thực hai bước.",
        "Two-step verification is off.",
    ),
    "second_factor_ui.code_required": ("Vui lòng nhập mã.", "Please type the code."),
    "second_factor_ui.password_required": (
        "Vui lòng nhập mật khẩu.",
        "Please type your password.",
    ),
}
