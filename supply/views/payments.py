"""Paying an order online: the resident's "pay" and "I have paid", the providers' notifications,
and the demo's own cashier (only while PAYMENT_GATEWAY is "fake")."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.edges import redirect_back
from core.errors import BaogongError
from households.permissions import rule_required
from supply import rules, selectors
from supply.models import OrderLine, OrderStatus, Payment, PaymentProvider
from supply.payments.gateways import FakeGateway, gateway
from supply.services import payments


@require_POST
@rule_required(rules.ORDER_OWN)
def order_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Open the provider's cashier for an order awaiting payment (or show its code to scan)."""
    order = selectors.order_get(user=request.user, pk=pk)
    back = request.build_absolute_uri(reverse("supply:order_detail", args=[order.pk]))
    try:
        payment = payments.payment_start(order=order, return_url=back)
    except BaogongError as exc:
        messages.error(request, exc.message)
        return redirect("supply:order_detail", pk=order.pk)
    if gateway(payment.provider).checkout_is_qr():
        import segno

        code = segno.make(payment.checkout_url, error="m").svg_data_uri(scale=6, border=2)
        return render(request, "supply/pay_scan.html", {"order": order, "payment": payment, "code": code})
    return redirect(payment.checkout_url)


@require_POST
@rule_required(rules.ORDER_OWN)
def order_pay_check(request: HttpRequest, pk: int) -> HttpResponse:
    """ "I have paid": ask the provider now rather than wait for its notification."""
    order = selectors.order_get(user=request.user, pk=pk)
    order = payments.payment_check(order_id=order.pk)
    if order.status == OrderStatus.AWAITING_PAYMENT:
        messages.warning(request, _("The payment has not arrived yet. If you have paid, it can take a minute."))
    elif order.status == OrderStatus.PLACED:
        messages.success(request, _("Payment received: order %(number)s is placed.") % {"number": order.pk})
    return redirect("supply:order_detail", pk=order.pk)


@require_POST
@rule_required(rules.REFUND_LINE)
def order_line_refund(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff: a line paid online that could not be supplied goes back to the resident."""
    line = selectors.refundable_lines(user=request.user, order_ids=OrderLine.objects.filter(pk=pk).values("order_id"))
    line = line.filter(pk=pk).first()
    if line is None:
        raise Http404(_("There is no such line to refund, or it is not yours to refund."))
    try:
        refund = payments.order_line_refund(line_id=line.pk, by=request.user)
    except BaogongError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("¥%(amount)s for “%(name)s” is being refunded.") % {"amount": refund.amount, "name": line.name}
        )
    return redirect_back(request, "/")


@csrf_exempt
@require_POST
def payment_notify(request: HttpRequest, provider: str) -> HttpResponse:
    """A provider's server tells us about a payment (signed; verified before anything changes)."""
    if provider not in PaymentProvider.values:
        raise Http404
    outcome = payments.payment_notified(provider=provider, headers=request.headers, body=request.body)
    return gateway(provider).acknowledge(outcome.ok, outcome.what)


@require_http_methods(["GET", "POST"])
def fakepay_cashier(request: HttpRequest, out_trade_no: str) -> HttpResponse:
    """The demo's cashier, standing in for a provider's page: it shows what is to be paid; paying
    makes the "provider" send its signed notification, which is verified like a real one."""
    if settings.PAYMENT_GATEWAY != "fake":
        raise Http404
    fake = gateway("fake")
    assert isinstance(fake, FakeGateway)
    trade = fake.ledger(out_trade_no)
    if trade is None:
        raise Http404
    if request.method == "POST":
        if request.POST.get("action") == "pay":
            notice = fake.pay(out_trade_no)
            if notice is not None:
                payments.payment_notified(provider="fake", headers=notice[0], body=notice[1])
                paid = Payment.objects.filter(out_trade_no=out_trade_no, status="paid").values_list(
                    "order_id", flat=True
                )
                for order_id in paid[:1]:
                    messages.success(request, _("Payment received: order %(number)s is placed.") % {"number": order_id})
        return redirect(trade["return_url"] or "/")
    return render(
        request,
        "supply/fakepay.html",
        {"trade": trade, "amount": f"{trade['amount'] / 100:.2f}", "out_trade_no": out_trade_no},
    )
