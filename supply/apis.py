"""The order API of ``/api/v1/`` (see ARCHITECTURE.md, "Stable interfaces").

One view per operation: it checks the request's shape, calls a selector or a service, renders.
Business rules (quantities, limits, capacity, cutoff, idempotency) live in :mod:`supply.services`,
whose messages reach the client unchanged in the ``{"detail", "errors"}`` shape.
"""

import inspect

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import BaogongError
from core.throttling import OrderPlaceThrottle
from households.models import Household, User
from households.permissions import allows
from supply import packages, rules, selectors, services
from supply.models import Category, PaymentMethod, WhenOut
from supply.rules import channel_of

# The largest id a 64-bit primary key can hold. SQLite cannot even compare a larger integer
# (OverflowError, a 500), so ids beyond it are refused as input before they reach a query.
MAX_ID = 2**63 - 1

# Who orders, and by which channel the order comes in.


# --- shared pieces --------------------------------------------------------------------------------


class ErrorOutputSerializer(serializers.Serializer):
    """Every error of the API: a message for a person and the messages per field."""

    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))

    class Meta:
        ref_name = "Error"


def _with_errors(ok: dict, *codes: int) -> dict:
    return {**ok, **{code: ErrorOutputSerializer for code in (401, 403, *codes)}}


class CanOrder(BasePermission):
    """Residents (for their own household), community workers and hotline operators order."""

    message = gettext_lazy("Only residents, community workers and hotline operators can order.")

    def has_permission(self, request, view) -> bool:
        if channel_of(request.user) is None:
            return False
        if allows(request.user, rules.ORDER_OWN) and request.user.household_id is None:
            self.message = gettext_lazy("Your account is not linked to a household yet.")
            return False
        return True


def _ordering_household_id(user: User, household_id: int | None) -> int:
    """The id of the household the user orders for: a resident's own (another id is not found), or
    for a worker or operator the household named, which must be in their scope (404 otherwise)."""
    if allows(user, rules.ORDER_OWN):
        return selectors.household_id_for_ordering(user=user, household_id=household_id or user.household_id)
    if household_id is None:
        message = _("Choose the household you are ordering for.")
        raise BaogongError(message, errors={"household": [message]})
    return selectors.household_id_for_ordering(user=user, household_id=household_id)


def _ordering_household(user: User, household_id: int | None) -> Household:
    """The household the user orders for (see :func:`_ordering_household_id`), with its places."""
    if allows(user, rules.ORDER_OWN):
        return selectors.household_for_ordering(user=user, household_id=household_id or user.household_id)
    if household_id is None:
        message = _("Choose the household you are ordering for.")
        raise BaogongError(message, errors={"household": [message]})
    return selectors.household_for_ordering(user=user, household_id=household_id)


def _id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, **kwargs)


FOR_HOUSEHOLD = gettext_lazy("Community workers and hotline operators: the household ordered for (one in their scope).")

ORDER_ID = OpenApiParameter("id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH)


# --- catalog --------------------------------------------------------------------------------------


class CatalogApi(APIView):
    """The products the household can order in the open cycle, with the units left.

    A resident sees the own household's catalog; a community worker or hotline operator names the
    household with ``?household=ID`` (one in their scope). With no cycle open every product shows
    ``available: 0``. A plain JSON array, not paginated (a district's catalog is a few hundred rows).
    """

    permission_classes = [IsAuthenticated, CanOrder]

    class FilterSerializer(serializers.Serializer):
        household = _id_field(help_text=FOR_HOUSEHOLD)
        category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
        search = serializers.CharField(required=False, allow_blank=True, max_length=100)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        category = serializers.ChoiceField(choices=Category.choices)
        unit = serializers.CharField()
        size = serializers.CharField()
        price = serializers.DecimalField(max_digits=8, decimal_places=2, coerce_to_string=True)
        supplier = serializers.CharField(source="supplier.name")
        available = serializers.IntegerField(
            min_value=0, help_text=gettext_lazy("Units left in the open cycle; 0 = sold out.")
        )
        household_limit = serializers.IntegerField(
            allow_null=True, help_text=gettext_lazy("Most units one household may order in a cycle; null = no limit.")
        )

        class Meta:
            ref_name = "CatalogProduct"

    @extend_schema(
        tags=["catalog"],
        operation_id="catalog_list",
        parameters=[FilterSerializer],
        responses=_with_errors({200: OutputSerializer(many=True)}, 400, 404),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        household = _ordering_household(request.user, filters.validated_data.get("household"))
        products = selectors.catalog(
            household=household,
            cycle=selectors.open_cycle(),
            category=filters.validated_data.get("category", ""),
            search=filters.validated_data.get("search", ""),
        )
        return Response(self.OutputSerializer(products, many=True).data)


# --- orders ---------------------------------------------------------------------------------------


class PackageOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.CharField()
    delivery_date = serializers.DateField()
    mode = serializers.CharField()
    pickup_slot = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "Package"


class OrderLineOutputSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product_id")
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=8, decimal_places=2, coerce_to_string=True)
    line_total = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=True)

    class Meta:
        ref_name = "OrderLine"


class OrderOutputSerializer(serializers.Serializer):
    """An order. Money is a string with 2 decimals; ``package`` is null until the cycle is packed."""

    id = serializers.IntegerField()
    # Plain strings, not enums in the schema: the values are the model's choices (awaiting/placed/
    # cancelled/expired; web/hotline/worker/baseline; online/on_delivery/free; awaiting/paid/
    # to_collect/free/to_refund/refunded/void).
    status = serializers.CharField(
        help_text=gettext_lazy("awaiting (its online payment), placed, cancelled or expired (not paid in time)")
    )
    channel = serializers.CharField(help_text=gettext_lazy("web, hotline, worker or baseline"))
    household = serializers.IntegerField(source="household_id")
    cycle = serializers.IntegerField(source="cycle_id")
    lines = OrderLineOutputSerializer(many=True)
    total = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=True)
    payment_method = serializers.CharField(help_text=gettext_lazy("online, on_delivery or free"))
    payment_state = serializers.CharField(
        help_text=gettext_lazy("awaiting, paid, to_collect, free, to_refund, refunded or void")
    )
    when_out = serializers.CharField(
        help_text=gettext_lazy("If an item is out before packing: drop (left out, money back) or substitute")
    )
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    package = serializers.SerializerMethodField()

    class Meta:
        ref_name = "Order"

    @extend_schema_field(PackageOutputSerializer(allow_null=True))
    def get_package(self, order) -> dict | None:
        # Packages are built when the cycle closes (deliveries); null until the order's community
        # is packed. Lists attach them for a whole page at once (supply.packages, one query).
        if not hasattr(order, "package"):
            packages.attach([order])
        package = order.package
        if package is None:
            return None
        return PackageOutputSerializer(
            {
                "code": package.code,
                "status": package.status,
                "delivery_date": package.delivery_date,
                "mode": package.mode,
                "pickup_slot": package.pickup_slot,
            }
        ).data


# An order just placed is rendered from what :func:`supply.services.order_place` returned (no
# read-back), by hand: building a serializer for it cost more CPU than placing the order in the
# database. Same fields and formats as OrderOutputSerializer (the same DRF fields format the money
# and the time; tests/supply/test_apis.py compares it with a later GET); no package yet.
_money = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=True).to_representation
_moment = serializers.DateTimeField().to_representation


def _placed_order_data(placed: services.PlacedOrder) -> dict:
    order = placed.order
    return {
        "id": order.pk,
        "status": order.status,
        "channel": order.channel,
        "household": order.household_id,
        "cycle": order.cycle_id,
        "lines": [
            {
                "product": line.product_id,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "line_total": _money(line.line_total),
            }
            for line in placed.lines
        ],
        "total": _money(order.total),
        "payment_method": order.payment_method,
        "payment_state": order.payment_state,
        "when_out": order.when_out,
        "note": order.note,
        "created_at": _moment(order.created_at),
        "package": None,
    }


class OrderLineInputSerializer(serializers.Serializer):
    """One line of an order: a product of the catalog and a whole number of its units."""

    product = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY)

    class Meta:
        ref_name = "OrderLineInput"


@extend_schema_field(OrderLineInputSerializer)
class OrderLineField(serializers.DictField):
    """A line must be a JSON object; its values pass through uncoerced ("2" is not 2, 1.5 not 1)
    so that :func:`supply.services.order_place` judges them and its messages apply."""


class OrderPagination(PageNumberPagination):
    page_size = 50


class OrderPageOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = OrderOutputSerializer(many=True)

    class Meta:
        ref_name = "OrderPage"


IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    type={"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
    required=False,
    description=gettext_lazy(
        "A key chosen by the client for this order (e.g. a UUID). Sending the same request with the same key "
        "again returns the first order (200) instead of placing another; the same key with a different "
        "request is refused (400). Strongly recommended: without it a retried request places a second order."
    ),
)


class OrderCreateApi(APIView):
    """Place an order in the open cycle at the posted prices.

    201 with the new order; 200 with the first order when the ``Idempotency-Key`` was used before
    for the same request. Residents order for their own household (channel ``web``); community
    workers (``worker``) and hotline operators (``hotline``) name the household. 409 when capacity
    is gone, a household limit is reached or ordering has closed.
    """

    permission_classes = [IsAuthenticated, CanOrder]
    throttle_classes = [OrderPlaceThrottle]

    class InputSerializer(serializers.Serializer):
        lines = serializers.ListField(child=OrderLineField(), min_length=1, max_length=services.MAX_LINES)
        note = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=services.MAX_NOTE)
        household = _id_field(allow_null=True, help_text=FOR_HOUSEHOLD)
        payment_method = serializers.ChoiceField(
            choices=[(m.value, m.label) for m in (PaymentMethod.ONLINE, PaymentMethod.ON_DELIVERY)],
            required=False,
            help_text=gettext_lazy(
                "Default: on_delivery. online: the order awaits its payment. An order on a household's behalf "
                "(operators, workers) is paid on delivery."
            ),
        )
        when_out = serializers.ChoiceField(
            choices=WhenOut.choices,
            required=False,
            help_text=gettext_lazy(
                "If an item is out before packing: drop (left out, its money back; the default) or substitute "
                "(the same supplier's similar product costing no more)."
            ),
        )
        urgent = serializers.BooleanField(
            required=False,
            default=False,
            help_text=gettext_lazy(
                "Operators and workers: medicine that cannot wait becomes a same-day urgent package at once."
            ),
        )

        class Meta:
            ref_name = "OrderPlaceInput"

        def validate_lines(self, lines: list[dict]) -> list[dict]:
            too_large = {
                str(index): {"product": [_("Choose a product.")]}
                for index, line in enumerate(lines)
                if isinstance(line.get("product"), int)
                and not isinstance(line.get("product"), bool)
                and line["product"] > MAX_ID
            }
            if too_large:
                raise serializers.ValidationError(too_large)
            return lines

    @extend_schema(
        tags=["orders"],
        operation_id="orders_create",
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses=_with_errors({201: OrderOutputSerializer, 200: OrderOutputSerializer}, 400, 404, 409, 415),
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        household_id = _ordering_household_id(request.user, data.get("household"))
        placed = services.order_place(
            household_id=household_id,
            lines=data["lines"],
            placed_by=request.user,
            channel=channel_of(request.user),
            payment_method=data.get("payment_method"),
            note=data.get("note") or "",
            idempotency_key=request.headers.get("Idempotency-Key"),
            urgent=data.get("urgent", False),
            when_out=data.get("when_out"),
        )
        if placed.created:
            return Response(_placed_order_data(placed), status=status.HTTP_201_CREATED)
        # A replay: the first order as it is now (its package, if packed meanwhile).
        order = selectors.order_get(user=request.user, pk=placed.order.pk)
        return Response(OrderOutputSerializer(order).data, status=status.HTTP_200_OK)


class OrderListApi(APIView):
    """The orders the caller may see, newest first, 50 a page (``?page=N``).

    A resident sees the own household's orders, staff those of their place.
    """

    class FilterSerializer(serializers.Serializer):
        cycle = _id_field()
        household = _id_field()

    @extend_schema(
        tags=["orders"],
        operation_id="orders_list",
        parameters=[
            FilterSerializer,
            OpenApiParameter(
                "page", {"type": "integer", "minimum": 1}, description=gettext_lazy("Page number, from 1.")
            ),
        ],
        responses=_with_errors({200: OrderPageOutputSerializer}, 400, 404),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        orders = selectors.order_list(
            user=request.user,
            household_id=filters.validated_data.get("household"),
            cycle_id=filters.validated_data.get("cycle"),
        )
        paginator = OrderPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(OrderOutputSerializer(packages.attach(page), many=True).data)


@extend_schema_view(
    get=extend_schema(description=inspect.cleandoc(OrderListApi.__doc__)),
    post=extend_schema(description=inspect.cleandoc(OrderCreateApi.__doc__)),
)
class OrderListCreateApi(OrderListApi, OrderCreateApi):
    """``/orders/`` carries two operations (the contract's URL): GET lists, POST places.

    Each keeps its own view class above; this one only routes and asks for the ordering
    permission on POST alone, since everyone signed in may list what they can see.
    """

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), CanOrder()]
        return [IsAuthenticated()]


class OrderDetailApi(APIView):
    """One order the caller may see; any other id is 404."""

    @extend_schema(
        tags=["orders"],
        operation_id="orders_retrieve",
        parameters=[ORDER_ID],
        responses=_with_errors({200: OrderOutputSerializer}, 404),
    )
    def get(self, request, pk: int):
        return Response(OrderOutputSerializer(selectors.order_get(user=request.user, pk=pk)).data)


class OrderCancelApi(APIView):
    """Cancel an order before its cycle's cutoff; its quantities go back on sale.

    409 after the cutoff or when the order is already cancelled; 404 for an order the caller may not see.
    """

    permission_classes = [IsAuthenticated, CanOrder]

    @extend_schema(
        tags=["orders"],
        operation_id="orders_cancel",
        parameters=[ORDER_ID],
        request=None,
        responses=_with_errors({200: OrderOutputSerializer}, 404, 409),
    )
    def post(self, request, pk: int):
        order = selectors.order_get(user=request.user, pk=pk)
        services.order_cancel(order_id=order.pk, by=request.user)
        return Response(OrderOutputSerializer(selectors.order_get(user=request.user, pk=pk)).data)
