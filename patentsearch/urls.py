from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("retrieval.api_urls")),
    path("api/v1/", include("cases.api_urls")),
    path("api/v1/", include("studies.api_urls")),
    path("api/v1/", include("console.api_urls")),
    path("cases/", include("cases.urls")),
    path("studies/", include("studies.urls")),
    path("console/", include("console.urls")),
    path("", include("retrieval.urls")),
]

handler400 = "patentsearch.api.bad_request"
handler403 = "patentsearch.api.permission_denied"
handler404 = "patentsearch.api.page_not_found"
handler500 = "patentsearch.api.server_error"
