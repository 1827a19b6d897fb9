"""The security headers Django has no setting for: Content-Security-Policy, Permissions-Policy,
Cross-Origin-Resource-Policy, and no caching of pages that belong to a logged-in user.

Django's SecurityMiddleware sets HSTS, X-Content-Type-Options, Referrer-Policy and
Cross-Origin-Opener-Policy from settings; XFrameOptionsMiddleware sets X-Frame-Options.

The policy allows nothing inline: scripts and styles come from our own static files only, so an injected
<script> or style attribute does nothing. htmx is told not to inject its indicator <style>
(templates/base.html, htmx-config) and the charts size themselves with a CSS class (harvester/svg.py).
tests/e2e/test_csp.py opens the main pages in Chromium and fails on any violation.
"""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Pico CSS draws its checkbox and select icons as data: SVGs
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# DRF's browsable API (GET /api/... in a browser) positions its buttons with style attributes and puts
# the code-highlighting CSS in a <style> element; scripts stay locked down there as everywhere.
BROWSABLE_API_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer",
        "microphone", "midi", "payment", "usb", "xr-spatial-tracking",
    )
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        renderer = getattr(response, "accepted_renderer", None)
        browsable = renderer is not None and getattr(renderer, "format", "") == "api"
        response.headers.setdefault("Content-Security-Policy", BROWSABLE_API_POLICY if browsable else CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        # A logged-in page holds a family's money: the back button after logout must not show it from cache.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
