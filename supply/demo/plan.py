"""The demo catalog as data: the suppliers, their districts, the products with prices and capacities,
the scarce product, the demo orders and the baseline package's contents."""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from math import ceil

from supply.models import (
    Category,
    Channel,
    PaymentMethod,
)

# --- the plan ------------------------------------------------------------------------------------

# The demo's suppliers (保供单位): name, contact and landline.
SUPPLIERS = (
    ("郑州丹尼斯生鲜超市", "赵经理", "0371-67891230"),
    ("世纪联华中原保供中心", "孙经理", "0371-68675210"),
    ("河南大参林保供药房", "王药师", "0371-63387766"),
)


DENNIS, LIANHUA, DASHENLIN = "郑州丹尼斯生鲜超市", "世纪联华中原保供中心", "河南大参林保供药房"

SUPPLIER_DISTRICTS = {
    DENNIS: ("zhongyuan", "erqi", "gaoxin"),
    LIANHUA: ("zhongyuan", "erqi"),
    DASHENLIN: ("zhongyuan", "gaoxin"),
}


@dataclass(frozen=True)
class DemoProduct:
    """One catalog row. Capacity per cycle is about ``share`` units per household of the city
    (rounded up to tens, at least ``minimum``), so a 250,000-household city does not sell out
    at once and the 2,000-household demo still shows scarcity."""

    supplier: str
    category: str
    name: str
    size: str
    unit: str
    price: str
    share: float
    minimum: int = 20
    household_limit: int | None = None
    is_bundle: bool = False
    description: str = ""
    reference_cap: str | None = None  # set by the task force (明码标价 monitoring)
    raised_to: str | None = None  # a later price posted by the supplier (above the cap: pending)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.supplier, self.name, self.size)


V, M, G, D, E, N = (
    Category.VEGETABLES,
    Category.MEAT_EGGS,
    Category.GRAIN_OIL,
    Category.MEDICINE,
    Category.EPIDEMIC,
    Category.DAILY,
)
# Retail prices of Zhengzhou in November 2022, in yuan.
CATALOG: tuple[DemoProduct, ...] = (
    # 丹尼斯: fresh food for the whole city, small packs of staples, a drugstore counter.
    DemoProduct(
        DENNIS,
        V,
        "蔬菜包",
        "5kg",
        "份",
        "49.90",
        0.30,
        is_bundle=True,
        description="标准保供蔬菜包：大白菜、土豆、白萝卜、胡萝卜、西红柿、黄瓜、青椒、洋葱，品种随到货调整",
    ),
    DemoProduct(DENNIS, V, "大白菜", "约2kg", "颗", "6.80", 0.25),
    DemoProduct(DENNIS, V, "土豆", "2.5kg", "袋", "12.50", 0.20),
    DemoProduct(DENNIS, V, "西红柿", "1kg", "袋", "9.80", 0.20),
    DemoProduct(DENNIS, V, "黄瓜", "1kg", "袋", "8.60", 0.15),
    DemoProduct(DENNIS, V, "青椒", "500g", "袋", "4.90", 0.15),
    DemoProduct(DENNIS, V, "胡萝卜", "1kg", "袋", "5.80", 0.15),
    DemoProduct(DENNIS, V, "白萝卜", "约1.5kg", "根", "4.50", 0.10),
    DemoProduct(DENNIS, V, "洋葱", "1kg", "袋", "5.60", 0.10),
    DemoProduct(DENNIS, M, "鸡蛋", "30枚", "盒", "26.80", 0.30, household_limit=2),
    DemoProduct(DENNIS, M, "猪肉（前腿肉）", "500g", "袋", "16.80", 0.20),
    DemoProduct(DENNIS, M, "五花肉", "500g", "袋", "18.80", 0.10),
    DemoProduct(DENNIS, M, "鸡腿", "1kg", "袋", "22.80", 0.15),
    DemoProduct(DENNIS, M, "牛肉", "500g", "袋", "42.00", 0.05),
    DemoProduct(DENNIS, G, "大米", "5kg", "袋", "31.90", 0.10),
    DemoProduct(DENNIS, G, "面粉", "2.5kg", "袋", "14.50", 0.10),
    DemoProduct(DENNIS, G, "挂面", "1kg", "包", "8.90", 0.20),
    DemoProduct(DENNIS, G, "三全猪肉白菜水饺", "1kg", "袋", "19.90", 0.15),
    DemoProduct(
        DENNIS,
        D,
        "布洛芬缓释胶囊",
        "0.3g×20粒",
        "盒",
        "19.80",
        0.03,
        reference_cap="24.00",
        description="丹尼斯大药房供货，非处方药",
    ),
    DemoProduct(DENNIS, D, "板蓝根颗粒", "10g×20袋", "盒", "16.50", 0.05, description="丹尼斯大药房供货，非处方药"),
    DemoProduct(DENNIS, E, "医用外科口罩", "50只", "盒", "19.90", 0.10, reference_cap="25.00"),
    DemoProduct(DENNIS, E, "N95口罩", "10只", "盒", "35.00", 0.05, reference_cap="39.90", raised_to="45.00"),
    DemoProduct(DENNIS, E, "84消毒液", "1L", "瓶", "9.90", 0.10),
    DemoProduct(DENNIS, E, "酒精喷雾（75%）", "500ml", "瓶", "15.80", 0.10, reference_cap="19.90"),
    DemoProduct(DENNIS, N, "卫生纸", "10卷", "提", "19.90", 0.15),
    DemoProduct(DENNIS, N, "牛奶", "250ml×24", "箱", "59.90", 0.15),
    DemoProduct(DENNIS, N, "白象方便面", "24袋", "箱", "49.90", 0.10),
    DemoProduct(DENNIS, N, "洗洁精", "1.5kg", "瓶", "12.90", 0.05),
    DemoProduct(DENNIS, N, "垃圾袋", "50只", "卷", "6.90", 0.10),
    # 世纪联华: staples in family sizes, frozen meat, household goods.
    DemoProduct(LIANHUA, G, "大米", "10kg", "袋", "59.90", 0.15),
    DemoProduct(LIANHUA, G, "面粉", "5kg", "袋", "26.50", 0.15),
    DemoProduct(LIANHUA, G, "食用油", "5L", "桶", "79.90", 0.10),
    DemoProduct(LIANHUA, G, "小米", "1kg", "袋", "12.80", 0.05),
    DemoProduct(LIANHUA, G, "食盐", "400g", "袋", "2.50", 0.10),
    DemoProduct(LIANHUA, M, "冷冻鸡翅中", "500g", "袋", "26.90", 0.05),
    DemoProduct(LIANHUA, M, "鸡胸肉", "1kg", "袋", "19.90", 0.05),
    DemoProduct(LIANHUA, N, "洗衣液", "2kg", "瓶", "29.90", 0.05),
    DemoProduct(LIANHUA, N, "卫生巾", "10片", "包", "12.90", 0.05),
    DemoProduct(LIANHUA, N, "婴儿纸尿裤", "L码52片", "包", "89.00", 0.01, minimum=10),
    DemoProduct(LIANHUA, N, "婴儿配方奶粉", "800g", "罐", "228.00", 0.01, minimum=10),
    # 大参林: medicine (prescription drugs for chronic patients included) and protection.
    DemoProduct(
        DASHENLIN,
        D,
        "连花清瘟胶囊",
        "0.35g×36粒",
        "盒",
        "29.80",
        0.005,
        minimum=10,
        household_limit=2,
        reference_cap="32.00",
    ),
    DemoProduct(DASHENLIN, D, "布洛芬缓释胶囊", "0.3g×20粒", "盒", "21.50", 0.03, reference_cap="24.00"),
    DemoProduct(DASHENLIN, D, "对乙酰氨基酚片", "0.5g×20片", "盒", "8.50", 0.03, reference_cap="12.00"),
    DemoProduct(DASHENLIN, D, "板蓝根颗粒", "10g×20袋", "盒", "15.80", 0.05),
    DemoProduct(
        DASHENLIN,
        D,
        "降压药 硝苯地平缓释片",
        "10mg×30片",
        "盒",
        "12.60",
        0.02,
        description="处方药：凭处方或慢病卡购买，送药时请出示",
    ),
    DemoProduct(
        DASHENLIN,
        D,
        "二甲双胍片",
        "0.5g×48片",
        "盒",
        "9.80",
        0.02,
        description="处方药：凭处方或慢病卡购买，送药时请出示",
    ),
    DemoProduct(DASHENLIN, E, "N95医用防护口罩", "10只", "盒", "38.00", 0.05, reference_cap="39.90"),
    DemoProduct(DASHENLIN, E, "抗原检测试剂盒", "5人份", "盒", "29.50", 0.05, household_limit=2, reference_cap="29.50"),
    DemoProduct(DASHENLIN, E, "电子体温计", "1支", "支", "25.00", 0.02),
)
# Sells out first in the demo: the demo orders below take 7 of its 10 units in a small city.
SCARCE = (DASHENLIN, "连花清瘟胶囊", "0.35g×36粒")

# A few orders so that the order pages, the supplier's view and the dashboards are not empty.
# (label, account, channel, payment, household chooser, note, lines as (supplier, name, size, quantity)).
DEMO_ORDERS = (
    (
        "resident",
        "resident",
        Channel.WEB,
        PaymentMethod.ONLINE,
        "resident",
        "",
        (
            (DENNIS, "蔬菜包", "5kg", 1),
            (DENNIS, "鸡蛋", "30枚", 1),
            (DENNIS, "牛奶", "250ml×24", 1),
            (DENNIS, "医用外科口罩", "50只", 1),
            (*SCARCE, 2),
        ),
    ),
    (
        "worker",
        "worker",
        Channel.WORKER,
        PaymentMethod.ON_DELIVERY,
        "ledger",
        "独居老人，放门口后请敲门",
        ((DENNIS, "蔬菜包", "5kg", 1), (DENNIS, "挂面", "1kg", 1), (*SCARCE, 1)),
    ),
    (
        "hotline-1",
        "operator",
        Channel.HOTLINE,
        PaymentMethod.ON_DELIVERY,
        "chronic",
        "电话下单，慢病用药",
        (
            (DENNIS, "大白菜", "约2kg", 1),
            (DENNIS, "鸡蛋", "30枚", 1),
            (DASHENLIN, "降压药 硝苯地平缓释片", "10mg×30片", 2),
            (*SCARCE, 2),
        ),
    ),
    (
        "hotline-2",
        "operator",
        Channel.HOTLINE,
        PaymentMethod.ON_DELIVERY,
        "care",
        "电话下单",
        ((DENNIS, "蔬菜包", "5kg", 1), (LIANHUA, "大米", "10kg", 1), (LIANHUA, "食用油", "5L", 1), (*SCARCE, 2)),
    ),
    (
        "hotline-3",
        "operator",
        Channel.HOTLINE,
        PaymentMethod.ON_DELIVERY,
        "care",
        "电话下单",
        ((DENNIS, "土豆", "2.5kg", 1), (DENNIS, "猪肉（前腿肉）", "500g", 2), (DENNIS, "卫生纸", "10卷", 1)),
    ),
)


# --- the result --------------------------------------------------------------------------------


@dataclass
class DemoCatalogResult:
    """What the demo catalog holds after the run, and what this run added."""

    suppliers: int
    suppliers_whitelisted: int  # whitelisted by this run
    products: int
    products_created: int
    by_category: dict[str, int]
    reference_caps: int
    pending_prices: list[tuple[str, Decimal, Decimal]]  # (product, posted price, cap)
    cycle_number: int
    cycle_cutoff: datetime.datetime
    cycle_first_delivery: datetime.date
    cycle_created: bool  # opened by this run
    stock_rows: int
    orders: int  # demo orders in the open cycle
    orders_created: int
    orders_skipped: list[str]  # why a demo order could not be placed (the cycle past its cutoff…)
    scarce: tuple[str, int, int] | None  # (product, available, capacity) in the open cycle
    seconds: float = 0.0


def demo_capacity(product: DemoProduct, households: int) -> int:
    return max(product.minimum, ceil(households * product.share / 10) * 10)


BASELINE = ((DENNIS, "蔬菜包", "5kg", 1), (DENNIS, "板蓝根颗粒", "10g×20袋", 1), (DENNIS, "医用外科口罩", "50只", 1))
