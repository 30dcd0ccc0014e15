from django.urls import path

from supply import catalog_views as views

app_name = "catalog"

urlpatterns = [
    # supplier staff: their own catalog
    path("catalog/", views.catalog_home, name="home"),
    path("catalog/new/", views.product_create, name="product_create"),
    path("catalog/<int:pk>/", views.product_detail, name="product_detail"),
    path("catalog/<int:pk>/details/", views.product_edit, name="product_edit"),
    path("catalog/<int:pk>/price/", views.product_price, name="product_price"),
    path("catalog/<int:pk>/shortfall/", views.product_shortfall, name="product_shortfall"),
    # task force (office staff and operators may look at the products)
    path("catalog/prices/", views.price_queue, name="price_queue"),
    path("catalog/prices/<int:pk>/decide/", views.price_decide, name="price_decide"),
    path("catalog/products/", views.product_overview, name="products"),
    path("catalog/products/<int:pk>/cap/", views.product_cap, name="product_cap"),
    path("catalog/suppliers/", views.supplier_overview, name="suppliers"),
    path("catalog/suppliers/<int:pk>/whitelist/", views.supplier_whitelist, name="supplier_whitelist"),
]
