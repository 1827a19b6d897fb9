from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Households and accounts"

    def ready(self):
        # Signal receivers: the lockout audit and failure counting, and the session's login time.
        from accounts import lockout, middleware  # noqa: F401
