from django.urls import path

from supply import views

app_name = "supply"

urlpatterns = [
    path("shop/", views.shop, name="shop"),
    path("shop/cycle/", views.cycle_status, name="cycle_status"),
    path("shop/basket/", views.basket, name="basket"),
    path("shop/restock/<int:pk>/", views.restock_alert, name="restock_alert"),
    path("shop/basket/add/", views.basket_add, name="basket_add"),
    path("shop/basket/update/", views.basket_update, name="basket_update"),
    path("shop/basket/confirm/", views.basket_confirm, name="basket_confirm"),
    path("shop/orders/", views.order_list, name="order_list"),
    path("shop/orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("shop/orders/<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("shop/orders/<int:pk>/pay/", views.order_pay, name="order_pay"),
    path("shop/orders/<int:pk>/again/", views.order_repeat, name="order_repeat"),
    path("shop/orders/<int:pk>/change/", views.order_change, name="order_change"),
    path("shop/orders/<int:pk>/pay/check/", views.order_pay_check, name="order_pay_check"),
    path("orders/lines/<int:pk>/refund/", views.order_line_refund, name="order_line_refund"),
    path("pay/notify/<slug:provider>/", views.payment_notify, name="payment_notify"),
    path("pay/fake/<slug:out_trade_no>/", views.fakepay_cashier, name="fakepay_cashier"),
    path("orders/new/<int:household_id>/", views.order_new, name="order_new"),
    path("orders/new/<int:household_id>/confirm/", views.order_new_confirm, name="order_new_confirm"),
    path("orders/placed/<int:pk>/", views.order_placed, name="order_placed"),
]
