"""The money side of the API: paying an order online, and the statements of a cycle."""

from django.urls import reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from supply import selectors
from supply.apis import ORDER_ID, CanOrder, _with_errors
from supply.payments.gateways import gateway
from supply.services import payments


class PaymentOutputSerializer(serializers.Serializer):
    """Where to pay an order awaiting its payment."""

    provider = serializers.CharField(help_text=gettext_lazy("fake (the demo's cashier), wechat or alipay"))
    out_trade_no = serializers.CharField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=True)
    checkout_url = serializers.CharField(
        help_text=gettext_lazy("the page to open, or with scan=true the content of a code to scan")
    )
    scan = serializers.BooleanField()
    pay_by = serializers.DateTimeField()

    class Meta:
        ref_name = "Payment"


class OrderPayApi(APIView):
    """Pay an order awaiting its online payment: the provider's trade to open (the same one again
    while it is open). The order is placed when the provider confirms the payment; poll the order.

    409 when the order is not awaiting a payment, its time has run out, or the provider cannot be reached.
    """

    permission_classes = [IsAuthenticated, CanOrder]

    @extend_schema(
        tags=["orders"],
        operation_id="orders_pay",
        parameters=[ORDER_ID],
        request=None,
        responses=_with_errors({200: PaymentOutputSerializer}, 404, 409),
    )
    def post(self, request, pk: int):
        order = selectors.order_get(user=request.user, pk=pk)
        back = request.build_absolute_uri(reverse("supply:order_detail", args=[order.pk]))
        payment = payments.payment_start(order=order, return_url=back)
        return Response(
            PaymentOutputSerializer(
                {
                    "provider": payment.provider,
                    "out_trade_no": payment.out_trade_no,
                    "amount": payment.amount,
                    "checkout_url": payment.checkout_url,
                    "scan": gateway(payment.provider).checkout_is_qr(),
                    "pay_by": order.pay_by,
                }
            ).data
        )
