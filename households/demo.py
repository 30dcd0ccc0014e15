"""A demo city for ``seed_demo``: Zhengzhou's three supply districts, down to households and phones.

The city is planned in memory from one ``random.Random(seed)`` (so the same arguments always plan
the same city, whatever the database holds), then written set-based: places by their natural keys
(codes); compounds, buildings, households and phones by inserts that skip rows clashing with a
unique constraint (``bulk_create(ignore_conflicts=True)``; on PostgreSQL ``COPY`` and
``INSERT … ON CONFLICT DO NOTHING``); accounts only when missing. Existing rows are never updated.
"""

import functools
import io
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.edges import building_sort_key
from core.errors import BaogongError
from core.phones import phone_display
from core.pinyin import pinyin_initials
from households.models import (
    Building,
    Community,
    Compound,
    District,
    Household,
    HouseholdPhone,
    LockdownLevel,
    Office,
    PopulationType,
    Role,
    User,
)

DEMO_PASSWORD = "demo12345"
MIN_HOUSEHOLDS = 50
BATCH_SIZE = 5000

# --- word lists ----------------------------------------------------------------------------------

# (code, name, hotline, offices: ((code, name, communities), ...)). The hotlines are the real
# 24-hour supply hotlines of November 2022; offices and communities are real-sounding names.
DISTRICTS: tuple[tuple[str, str, str, tuple[tuple[str, str, tuple[str, ...]], ...]], ...] = (
    (
        "zhongyuan",
        "中原区",
        "0371-67635762",
        (
            (
                "linshanzhai",
                "林山寨街道",
                ("平安街社区", "百花路社区", "伊河路社区", "汝河路社区", "互助路社区", "建设西路社区", "冉屯东社区"),
            ),
            (
                "jianshelu",
                "建设路街道",
                ("桐柏路社区", "友爱路社区", "华山路社区", "工人路社区", "五一社区", "清华园社区", "西站路社区"),
            ),
            (
                "mianfanglu",
                "棉纺路街道",
                (
                    "棉纺西路社区",
                    "国棉三厂社区",
                    "国棉四厂社区",
                    "国棉六厂社区",
                    "秦岭北社区",
                    "陇海西社区",
                    "电厂路社区",
                ),
            ),
            (
                "qinlinglu",
                "秦岭路街道",
                ("秦岭路社区", "中原新城社区", "冉屯社区", "帝湖社区", "须水河社区", "伏牛路社区", "化工路社区"),
            ),
            (
                "sanguanmiao",
                "三官庙街道",
                ("三官庙社区", "嵩山北路社区", "航海西路社区", "中原西路社区", "西三环社区", "郑上路社区", "董寨社区"),
            ),
        ),
    ),
    (
        "erqi",
        "二七区",
        "0371-68812345",
        (
            (
                "huaihelu",
                "淮河路街道",
                ("淮河东路社区", "兴华南街社区", "大学路社区", "政通路社区", "齐礼阎社区", "长江路社区", "福华街社区"),
            ),
            (
                "jiefanglu",
                "解放路街道",
                ("解放路社区", "西太康路社区", "德化街社区", "正兴街社区", "钱塘路社区", "敦睦路社区", "民主路社区"),
            ),
            (
                "minggonglu",
                "铭功路街道",
                ("铭功路社区", "福寿街社区", "苑陵街社区", "南阳路社区", "人和路社区", "西大街社区", "操场街社区"),
            ),
            (
                "yimalu",
                "一马路街道",
                ("一马路社区", "二马路社区", "京广路社区", "陇海中路社区", "长江西路社区", "菜王社区", "兴隆铺社区"),
            ),
            (
                "mifengzhang",
                "蜜蜂张街道",
                (
                    "蜜蜂张社区",
                    "淮南街社区",
                    "庆丰街社区",
                    "兴华北街社区",
                    "保全街社区",
                    "汝河新区社区",
                    "工人新村社区",
                ),
            ),
            (
                "wulibao",
                "五里堡街道",
                ("五里堡社区", "航海中路社区", "大学南路社区", "幸福路社区", "勤劳街社区", "工农路社区", "亚星社区"),
            ),
        ),
    ),
    (
        "gaoxin",
        "高新区",
        "0371-63060058",
        (
            (
                "shifo",
                "石佛办事处",
                ("石佛社区", "西史赵社区", "东史马社区", "孙庄社区", "贾庄社区", "岗坡社区", "石佛新村社区"),
            ),
            (
                "gouzhao",
                "沟赵办事处",
                ("沟赵社区", "双楼社区", "西岗社区", "瓦屋孙社区", "木马社区", "董岗社区", "芦村河社区"),
            ),
            (
                "fengyang",
                "枫杨街道",
                ("枫杨社区", "红松路社区", "银杏路社区", "翠竹街社区", "合欢街社区", "莲花街社区", "檀香路社区"),
            ),
            (
                "wutong",
                "梧桐街道",
                ("梧桐社区", "长椿路社区", "冬青街社区", "瑞达路社区", "雪松路社区", "科学大道社区", "玉兰街社区"),
            ),
            (
                "shuangqiao",
                "双桥办事处",
                ("双桥社区", "河王社区", "邢庄社区", "刘沟社区", "常庄社区", "后河芦社区", "前河芦社区"),
            ),
        ),
    ),
)

# Extra communities beyond an office's list become "<name stem><direction>社区".
COMMUNITY_SPLITS = ("东", "西", "南", "北", "中", "新")

STREETS = (
    "丰产路",
    "文化路",
    "农业路",
    "花园路",
    "经三路",
    "纬五路",
    "金水路",
    "黄河路",
    "建设路",
    "中原路",
    "桐柏路",
    "嵩山路",
    "工人路",
    "华山路",
    "伊河路",
    "汝河路",
    "百花路",
    "棉纺路",
    "秦岭路",
    "伏牛路",
    "陇海路",
    "大学路",
    "京广路",
    "航海路",
    "淮河路",
    "政通路",
    "兴华街",
    "长江路",
    "须水路",
    "互助路",
    "友爱路",
    "郑上路",
    "化工路",
    "莲花街",
    "长椿路",
    "翠竹街",
    "银杏路",
    "瑞达路",
    "雪松路",
    "红松路",
    "合欢街",
    "冬青街",
    "玉兰街",
    "石楠路",
    "碧桃路",
    "梧桐街",
    "枫杨街",
    "西站路",
    "福华街",
    "齐礼阎路",
    "人和路",
    "铭功路",
    "德化街",
    "解放路",
    "民主路",
    "敦睦路",
    "太康路",
    "一马路",
    "二马路",
    "钱塘路",
)
ESTATES = (
    "建业春天里",
    "绿城百合花园",
    "碧桂园",
    "正商城",
    "康桥华城",
    "万科城",
    "永威翡翠城",
    "鑫苑名家",
    "亚星盛世家园",
    "美景鸿城",
    "升龙国际",
    "名门紫园",
    "保利海上五月花",
    "融创城",
    "锦艺城",
    "昌建誉峰",
    "朗悦公园茂",
    "恒大绿洲",
    "金科城",
    "中原新城",
    "帝湖花园",
    "盛世年华",
    "西溪花园",
    "汇港新城",
    "锦江花园",
    "天骄华庭",
    "升龙城",
    "正弘城",
    "兴达花园",
    "英协花园",
    "锦绣山河",
    "绿地城",
    "瀚海北金",
    "居易国际",
    "鼎盛阳光城",
    "建业贰号城邦",
    "长江花园",
    "翰林国际",
    "东方明珠花园",
    "翠竹园",
    "枫林上城",
    "美盛中央公园",
    "蓝堡湾",
    "金色港湾",
    "中旅国际城",
    "亚新美好人家",
    "海马青风公园",
    "橄榄城",
    "森林半岛",
    "正商智慧城",
    "瑞丰佳苑",
    "润华苑",
    "银河花园",
    "裕鸿世界港",
    "凤凰城",
    "龙湖锦艺城",
)
ESTATE_PHASES = ("", "一期", "二期", "三期", "东区", "西区", "南区", "北区")
WORK_UNITS = (
    "国棉三厂",
    "国棉四厂",
    "国棉六厂",
    "郑州电缆厂",
    "郑州煤矿机械厂",
    "中原制药厂",
    "郑州铁路局",
    "省建一公司",
    "市自来水公司",
    "郑州大学南校区",
    "河南工业大学",
    "市一院",
    "省农科院",
    "郑州电业局",
    "黄委会",
    "市煤气公司",
    "郑州二砂",
    "郑州肉联厂",
    "郑州纺机厂",
    "河南日报社",
    "郑州第二砂轮厂",
    "省地矿局",
    "市公交公司",
    "郑州卷烟厂",
)
WORK_UNIT_YARDS = ("家属院", "北院家属院", "南院家属院", "东院家属院", "西院家属院")

# Frequency-weighted surnames (roughly their share among Henan's population) and given names.
SURNAMES = (
    ("王", 11),
    ("李", 9),
    ("张", 9),
    ("刘", 7),
    ("陈", 4),
    ("杨", 4),
    ("赵", 3),
    ("黄", 2),
    ("周", 2),
    ("吴", 2),
    ("徐", 2),
    ("孙", 2),
    ("马", 2),
    ("朱", 2),
    ("胡", 2),
    ("郭", 3),
    ("何", 1),
    ("高", 2),
    ("林", 1),
    ("罗", 1),
    ("郑", 1),
    ("梁", 1),
    ("谢", 1),
    ("宋", 2),
    ("唐", 1),
    ("许", 1),
    ("韩", 1),
    ("冯", 1),
    ("邓", 1),
    ("曹", 1),
    ("彭", 1),
    ("曾", 1),
    ("田", 1),
    ("董", 1),
    ("袁", 1),
    ("潘", 1),
    ("于", 1),
    ("蒋", 1),
    ("蔡", 1),
    ("余", 1),
    ("杜", 1),
    ("叶", 1),
    ("程", 1),
    ("苏", 1),
    ("魏", 1),
    ("吕", 1),
    ("丁", 1),
    ("任", 1),
    ("沈", 1),
    ("姚", 1),
    ("卢", 1),
    ("崔", 1),
    ("贾", 1),
    ("段", 1),
    ("雷", 1),
    ("侯", 1),
    ("史", 1),
    ("白", 1),
    ("孟", 1),
    ("牛", 1),
)
GIVEN_NAMES = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "秀英",
    "秀兰",
    "建华",
    "国强",
    "志强",
    "海燕",
    "红霞",
    "晓东",
    "俊杰",
    "丽娟",
    "小红",
    "文博",
    "鹏飞",
    "雪梅",
    "玉梅",
    "子涵",
    "浩然",
    "梓萱",
    "一诺",
    "欣怡",
    "思远",
    "雨桐",
    "宇航",
    "佳琪",
    "嘉怡",
    "晨阳",
    "梦瑶",
    "家豪",
    "若曦",
    "建伟",
    "亚楠",
    "春燕",
    "晓燕",
    "振华",
    "永刚",
    "冬梅",
    "金凤",
    "红伟",
    "卫东",
    "利娜",
)
ELDERLY_GIVEN_NAMES = (
    "桂英",
    "淑珍",
    "玉兰",
    "桂兰",
    "凤英",
    "秀珍",
    "玉珍",
    "素梅",
    "建国",
    "国庆",
    "德胜",
    "保国",
    "富贵",
    "振兴",
    "秀云",
    "桂芝",
    "淑兰",
    "长顺",
    "玉山",
    "有福",
    "文秀",
    "兰英",
    "春生",
    "金山",
)
CARE_NOTES = (
    "行动不便，送货请送到家门口",
    "听力较差，敲门后请多等一会儿",
    "需胰岛素，药品请冷藏配送",
    "家有婴儿，需奶粉、尿不湿",
    "术后康复，需软食",
    "化疗中，需点对点闭环转运车辆",
    "孕晚期，产检需闭环车辆",
    "视力障碍，请电话联系",
    "需按时购买降压药",
    "认知障碍，请联系子女",
)
# Mobile prefixes whose whole 8-digit block is valid for phonenumbers (checked by the tests).
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)
GATES = ("东门", "西门", "南门", "北门")
COMPOUND_POINTS = ("卡口外接收点", "外临时接收帐篷", "外物资中转点", "岗亭旁接收点")
COMMUNITY_POINTS = ("党群服务中心门前接收点", "广场东侧接收点", "卫生服务站旁接收点", "北门停车场接收点")

# (name, contact, landline). The first is the demo supplier account's.
DEMO_STAFF = (
    ("worker", Role.WORKER, "李", "敏"),
    ("operator", Role.OPERATOR, "张", "倩"),
    ("office", Role.OFFICE, "刘", "建军"),
    ("supplier", Role.SUPPLIER, "赵", "磊"),
    ("taskforce", Role.TASKFORCE, "郭", "振华"),
    ("admin", Role.ADMIN, "", ""),
)
DEMO_USERNAMES = ("resident",) + tuple(username for username, *_rest in DEMO_STAFF)

# Shares: compounds by lockdown level (about 3 in 5 unsealed, as in notice No. 152), care flags.
LEVEL_WEIGHTS = ((LockdownLevel.OPEN, 55), (LockdownLevel.STAY_IN_COMPOUND, 30), (LockdownLevel.STAY_AT_HOME, 15))
CARE_RATES = {"elderly_alone": 0.03, "disabled": 0.015, "pregnant": 0.008, "chronic_medicine": 0.05, "dialysis": 0.002}
CARE_NOTE_RATE = 0.006
FLOATING_RATE = 0.15
SEALED_BUILDING_RATE = 0.03
MEMBERS = (1,) * 10 + (2,) * 25 + (3,) * 30 + (4,) * 18 + (5,) * 11 + (6,) * 6
PHONE_COUNTS = (1,) * 55 + (2,) * 35 + (3,) * 10

HOUSEHOLDS_PER_COMMUNITY = 2500
HOUSEHOLDS_PER_COMPOUND = 150
COMMUNITIES_PER_OFFICE = 4


# --- the result --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    scope: str
    password: str = DEMO_PASSWORD


@dataclass
class DemoResult:
    """What the demo city holds (``totals``), what this run added (``created``), and the accounts."""

    totals: dict[str, int]
    created: dict[str, int]
    accounts: list[DemoAccount]
    community_workers: list[str]
    seconds: float = 0.0


# --- the plan ----------------------------------------------------------------------------------
# Plain tuples and lists: at 250,000 households, objects per row would cost seconds.


@dataclass
class _Community:
    office_code: str
    code: str
    name: str
    receiving_point: str
    district_code: str
    worker_name: tuple[str, str]
    compounds: list["_Compound"] = field(default_factory=list)


@dataclass
class _Compound:
    code: str
    name: str
    level: int
    delivery_day: int
    receiving_point: str
    # (number, level, [household rows]); a row is a list, see _household_row.
    buildings: list[tuple[str, int, list[list]]] = field(default_factory=list)


@dataclass
class _Plan:
    offices: list[tuple[str, str, str]]  # (district code, office code, name)
    communities: list[_Community]
    demo: _Community  # the demo worker's community; its first compound is the resident's


def _split(total: int, parts: int, rng: random.Random, spread: float) -> list[int]:
    """``total`` split into ``parts`` positive sizes that vary by about ±spread."""
    weights = [1 + rng.uniform(-spread, spread) for _part in range(parts)]
    scale = total / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    i = 0
    while (diff := total - sum(sizes)) != 0:
        j = i % parts
        if diff > 0:
            sizes[j] += 1
        elif sizes[j] > 1:
            sizes[j] -= 1
        i += 1
    return sizes


class _Names:
    """Draws person names, compound names and phone numbers; compound names and phones are unique."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.surnames = [s for s, weight in SURNAMES for _copy in range(weight)]
        self.used_compounds: set[str] = set()
        self.used_phones: set[str] = set()
        self.yard_numbers: Counter[str] = Counter()

    def person(self, *, elderly: bool = False) -> tuple[str, str]:
        rng = self.rng
        given = rng.choice(ELDERLY_GIVEN_NAMES if elderly else GIVEN_NAMES)
        return rng.choice(self.surnames), given

    def phone(self) -> str:
        rng = self.rng
        while True:
            number = f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(100_000_000):08d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def compound(self, *, kind: str, street: str) -> str:
        rng = self.rng
        for _attempt in range(8):
            if kind == "estate":
                name = rng.choice(ESTATES) + rng.choice(ESTATE_PHASES)
            elif kind == "work_unit":
                name = rng.choice(WORK_UNITS) + rng.choice(WORK_UNIT_YARDS)
            else:
                name = f"{street}{rng.randint(1, 199)}号院"
            if name not in self.used_compounds:
                self.used_compounds.add(name)
                return name
        # Pools exhausted (very large cities): numbered yards never run out.
        while True:
            self.yard_numbers[street] += 1
            name = f"{street}{200 + self.yard_numbers[street]}号院"
            if name not in self.used_compounds:
                self.used_compounds.add(name)
                return name


def _pick_level(rng: random.Random) -> int:
    roll = rng.random() * 100
    for level, weight in LEVEL_WEIGHTS:
        if roll < weight:
            return level
        roll -= weight
    return LockdownLevel.OPEN


def _layouts(size: int, kind: str, rng: random.Random) -> list[tuple[int, int, int]]:
    """Buildings for ``size`` households as (units, floors, rooms per floor); units 0 = no units.

    Old yards are 5–7 storey walk-ups with 2 flats per landing; estates are high-rises. Some flats
    stay unregistered (empty, sold, let to nobody), so capacity is above ``size``.
    """
    occupancy = rng.uniform(0.75, 0.95)
    needed = ceil(size / occupancy)
    if kind == "estate":
        count = max(1, round(size / rng.uniform(50, 90)))
        units, rooms = rng.choice((1, 2, 2, 3)), rng.choice((2, 2, 3, 4))
        floors = min(33, max(6, ceil(needed / count / (units * rooms))))
        layout = (units, floors, rooms)
    else:
        count = max(1, round(size / rng.uniform(24, 40)))
        floors = rng.choice((5, 6, 6, 7))
        units = ceil(needed / count / (floors * 2))
        layout = (0 if units == 1 and rng.random() < 0.5 else units, floors, 2)
    per_building = max(1, layout[0]) * layout[1] * layout[2]
    count = max(count, ceil(needed / per_building))
    return [layout] * count


def _household_row(names: _Names, rng: random.Random, unit: str, floor: int, room: str) -> list:
    """[unit, floor, room, contact, members, population, elderly_alone, disabled, pregnant,
    chronic_medicine, dialysis, care_note, phones]."""
    elderly = rng.random() < CARE_RATES["elderly_alone"]
    disabled = rng.random() < CARE_RATES["disabled"]
    pregnant = not elderly and rng.random() < CARE_RATES["pregnant"]
    chronic = rng.random() < (CARE_RATES["chronic_medicine"] * (4 if elderly else 1))
    dialysis = rng.random() < CARE_RATES["dialysis"]
    note = rng.choice(CARE_NOTES) if rng.random() < CARE_NOTE_RATE else ""
    members = 1 if elderly else rng.choice(MEMBERS)
    if pregnant and members < 2:
        members = 2
    population = PopulationType.FLOATING if rng.random() < FLOATING_RATE else PopulationType.PERMANENT
    surname, given = names.person(elderly=elderly)
    phones = [names.phone() for _phone in range(rng.choice(PHONE_COUNTS))]
    return [
        unit,
        floor,
        room,
        surname + given,
        members,
        population,
        elderly,
        disabled,
        pregnant,
        chronic,
        dialysis,
        note,
        phones,
    ]


HOUSEHOLD_COLUMNS = (
    "building_id",
    "unit",
    "floor",
    "room",
    "contact_name",
    "members",
    "population_type",
    "elderly_alone",
    "disabled",
    "pregnant",
    "chronic_medicine",
    "dialysis",
    "care_note",
    "assigned_worker_id",
    "created_at",
    "updated_at",
    "baseline_opt_out",
)
_FLAG_COLUMNS = {"elderly_alone": 6, "disabled": 7, "pregnant": 8, "chronic_medicine": 9, "dialysis": 10}
_NOTE_COLUMN = 11


def _plan_city(*, households: int, seed: int) -> _Plan:
    rng = random.Random(seed)
    names = _Names(rng)

    community_target = max(1, round(households / HOUSEHOLDS_PER_COMMUNITY))
    office_count = min(sum(len(d[3]) for d in DISTRICTS), max(3, ceil(community_target / COMMUNITIES_PER_OFFICE)))
    # Offices round-robin over the districts so that every district has some.
    chosen: list[tuple[str, tuple[str, str, tuple[str, ...]]]] = []
    depth = 0
    while len(chosen) < office_count:
        for district_code, _name, _hotline, offices in DISTRICTS:
            if depth < len(offices) and len(chosen) < office_count:
                chosen.append((district_code, offices[depth]))
        depth += 1
    offices = [(district_code, code, name) for district_code, (code, name, _communities) in chosen]

    community_count = max(2 * office_count, community_target)
    communities: list[_Community] = []
    per_office: Counter[str] = Counter()
    for i in range(community_count):
        district_code, (office_code, _office_name, community_names) = chosen[i % office_count]
        k = per_office[office_code]
        per_office[office_code] += 1
        if k < len(community_names):
            name = community_names[k]
        else:
            base = community_names[k % len(community_names)].removesuffix("社区")
            split = COMMUNITY_SPLITS[(k // len(community_names) - 1) % len(COMMUNITY_SPLITS)]
            round_ = (k // len(community_names) - 1) // len(COMMUNITY_SPLITS)
            name = f"{base}{split}{'' if round_ == 0 else round_ + 1}社区"
        communities.append(
            _Community(
                office_code=office_code,
                code=f"{office_code}-{k + 1:02d}",
                name=name,
                receiving_point=f"{name}{rng.choice(COMMUNITY_POINTS)}",
                district_code=district_code,
                worker_name=names.person(),
            )
        )
    demo = communities[0]

    for community, share in zip(communities, _split(households, community_count, rng, 0.35), strict=True):
        compound_count = min(share, max(3, round(share / HOUSEHOLDS_PER_COMPOUND)))
        sizes = _split(share, compound_count, rng, 0.5)
        street = community.name.removesuffix("社区")
        if not street.endswith(("路", "街")):
            street = rng.choice(STREETS)
        day_offset = rng.randrange(3)
        estate_share = 0.75 if community.district_code == "gaoxin" else 0.35
        for k, size in enumerate(sizes):
            roll = rng.random()
            kind = "estate" if roll < estate_share else ("work_unit" if roll < estate_share + 0.2 else "yard")
            name = names.compound(kind=kind, street=street if rng.random() < 0.6 else rng.choice(STREETS))
            level = _pick_level(rng)
            if community is demo and k < 3:
                # The demo community shows every level: the resident's compound is stay-at-home.
                level = (LockdownLevel.STAY_AT_HOME, LockdownLevel.STAY_IN_COMPOUND, LockdownLevel.OPEN)[k]
            compound = _Compound(
                code=f"{k + 1:03d}",
                name=name,
                level=level,
                delivery_day=(day_offset + k) % 3,
                receiving_point=f"{rng.choice(GATES)}{rng.choice(COMPOUND_POINTS)}",
            )
            layouts = _layouts(size, "estate" if kind == "estate" else "yard", rng)
            slots = [
                (b, unit, floor, room)
                for b, (units, floors, rooms) in enumerate(layouts)
                for unit in range(1, max(1, units) + 1)
                for floor in range(1, floors + 1)
                for room in range(1, rooms + 1)
            ]
            taken = sorted(rng.sample(range(len(slots)), size))
            rows_by_building: list[list[list]] = [[] for _layout in layouts]
            for index in taken:
                b, unit, floor, room = slots[index]
                unit_text = str(unit) if layouts[b][0] else ""
                rows_by_building[b].append(_household_row(names, rng, unit_text, floor, f"{floor}{room:02d}"))
            for b, rows in enumerate(rows_by_building):
                if not rows:
                    continue  # no registered flat: the register does not list the building
                sealed = level < LockdownLevel.STAY_AT_HOME and rng.random() < SEALED_BUILDING_RATE
                compound.buildings.append(
                    (f"{b + 1}号楼", LockdownLevel.STAY_AT_HOME if sealed else LockdownLevel.OPEN, rows)
                )
            community.compounds.append(compound)

    # The demo community's open compound has a sealed building (a risk unit inside an open yard).
    open_compound = demo.compounds[2]
    number, _level, rows = open_compound.buildings[-1]
    open_compound.buildings[-1] = (number, LockdownLevel.STAY_AT_HOME, rows)

    _ensure_care_examples(demo, communities)
    return _Plan(offices=offices, communities=communities, demo=demo)


def _ensure_care_examples(demo: _Community, communities: list[_Community]) -> None:
    """Small cities still show every care flag, and the demo worker has a ledger household."""
    resident_row = demo.compounds[0].buildings[0][2][0]
    demo_rows = [
        row
        for compound in demo.compounds
        for _n, _l, rows in compound.buildings
        for row in rows
        if row is not resident_row
    ]
    all_rows = (
        row
        for community in communities
        for compound in community.compounds
        for _n, _l, rows in compound.buildings
        for row in rows
    )
    present = {flag for row in all_rows for flag, column in _FLAG_COLUMNS.items() if row[column]}
    has_note = any(row[_NOTE_COLUMN] for row in demo_rows)

    def mark(row: list, flag: str) -> None:
        row[_FLAG_COLUMNS[flag]] = True
        if flag == "elderly_alone":
            row[4] = 1
            row[_FLAG_COLUMNS["pregnant"]] = False
        elif flag == "pregnant":
            row[4] = max(row[4], 2)
            row[_FLAG_COLUMNS["elderly_alone"]] = False

    if not any(row[_FLAG_COLUMNS["elderly_alone"]] for row in demo_rows):
        mark(demo_rows[0], "elderly_alone")
        present.add("elderly_alone")
    # Flags still missing go to distinct demo households (never the elderly one just marked).
    spare = [row for row in demo_rows if not any(row[c] for c in _FLAG_COLUMNS.values())]
    for flag in _FLAG_COLUMNS:
        if flag not in present and spare:
            mark(spare.pop(), flag)
    if not has_note and spare:
        spare.pop()[_NOTE_COLUMN] = CARE_NOTES[0]


# --- writing -----------------------------------------------------------------------------------


def _chunks(items: list, size: int = BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


@transaction.atomic
def demo_city_seed(*, households: int, seed: int, supplier_id: int | None = None) -> DemoResult:
    """Build (or complete) the demo city and its accounts.

    Guarantees:
    - the same ``households`` and ``seed`` always describe the same city; running it again with
      them inserts nothing and updates nothing (passwords are not re-hashed);
    - the three districts carry their real supply hotlines; every lockdown level is present on
      compounds, with a sealed building inside a looser compound; delivery days 0, 1 and 2 occur in
      every community; every care flag occurs; every phone is a valid Chinese mobile in E.164;
    - accounts ``resident`` (a household in a stay-at-home compound), ``worker`` (that community,
      and the assigned worker of its lonely elderly households), ``operator`` (that district),
      ``office`` (that office), ``supplier`` (of ``supplier_id``, made by supply.demo, the app that
      owns suppliers; without it no supplier account), ``taskforce`` (the whole city)
      and ``admin``, plus ``worker-<community code>`` in every community, all with password
      ``demo12345``;
    - everything is one transaction: an error leaves the database as it was.
    """
    if households < MIN_HOUSEHOLDS:
        raise BaogongError(_("A demo city needs at least %(count)d households.") % {"count": MIN_HOUSEHOLDS})
    started = time.monotonic()
    plan = _plan_city(households=households, seed=seed)
    created: Counter[str] = Counter()
    # Hashing is slow: once per run at most, and not at all when every account exists.
    hashed = functools.cache(lambda: make_password(DEMO_PASSWORD))

    # Places above compounds: a few hundred rows at most, by natural key.
    district_ids: dict[str, int] = {}
    for code, name, hotline, _offices in DISTRICTS:
        district, was_created = District.objects.get_or_create(code=code, defaults={"name": name, "hotline": hotline})
        district_ids[code] = district.pk
        created["districts"] += was_created
    office_ids: dict[str, int] = {}
    for district_code, code, name in plan.offices:
        office, was_created = Office.objects.get_or_create(
            district_id=district_ids[district_code], code=code, defaults={"name": name}
        )
        office_ids[code] = office.pk
        created["offices"] += was_created
    community_ids: dict[str, int] = {}
    for community in plan.communities:
        row, was_created = Community.objects.get_or_create(
            office_id=office_ids[community.office_code],
            code=community.code,
            defaults={"name": community.name, "receiving_point": community.receiving_point},
        )
        community_ids[community.code] = row.pk
        created["communities"] += was_created
        if row.name != community.name:
            _refuse_other_city(f"{row.code} {row.name}", community.name)
    our_communities = list(community_ids.values())

    # Compounds and buildings: insert what is missing, then read ids back by natural key.
    compound_ids = _insert_missing(
        Compound,
        key_fields=("community_id", "code"),
        scope={"community_id__in": our_communities},
        wanted={
            (community_ids[community.code], compound.code): dict(
                name=compound.name,
                initials=pinyin_initials(compound.name),
                lockdown_level=compound.level,
                delivery_day=compound.delivery_day,
                receiving_point=compound.receiving_point,
            )
            for community in plan.communities
            for compound in community.compounds
        },
        created=created,
        label="compounds",
        same="name",
    )
    building_ids = _insert_missing(
        Building,
        key_fields=("compound_id", "number"),
        scope={"compound__community_id__in": our_communities},
        wanted={
            (compound_ids[(community_ids[community.code], compound.code)], number): dict(
                lockdown_level=level, sort_key=building_sort_key(number)
            )
            for community in plan.communities
            for compound in community.compounds
            for number, level, _rows in compound.buildings
        },
        created=created,
        label="buildings",
    )

    # Staff accounts before households: lonely elderly households name their worker.
    demo_community_id = community_ids[plan.demo.code]
    demo_office_id = office_ids[plan.demo.office_code]
    demo_district_id = district_ids[plan.demo.district_code]
    staff_scope = {
        Role.WORKER: {"community_id": demo_community_id, "is_staff": True},
        Role.OPERATOR: {"district_id": demo_district_id, "is_staff": True},
        Role.OFFICE: {"office_id": demo_office_id, "is_staff": True},
        Role.SUPPLIER: {"supplier_id": supplier_id},
        Role.TASKFORCE: {"district_id": None, "is_staff": True},
        Role.ADMIN: {"is_staff": True, "is_superuser": True},
    }
    wanted_users = {
        username: dict(role=role, last_name=last, first_name=first, **staff_scope[role])
        for username, role, last, first in DEMO_STAFF
        if role != Role.SUPPLIER or supplier_id is not None
    }
    for community in plan.communities:
        last, first = community.worker_name
        wanted_users[f"worker-{community.code}"] = dict(
            role=Role.WORKER,
            last_name=last,
            first_name=first,
            community_id=community_ids[community.code],
            is_staff=True,
        )
    user_ids = _users_create_missing(wanted_users, hashed=hashed, created=created)

    household_ids, household_rows = _households_save(
        plan,
        community_ids=community_ids,
        compound_ids=compound_ids,
        building_ids=building_ids,
        user_ids=user_ids,
        created=created,
    )

    # The resident: the first household of the demo community's stay-at-home compound.
    resident_compound = plan.demo.compounds[0]
    number, _level, rows = resident_compound.buildings[0]
    resident_row = rows[0]
    resident_key = (
        building_ids[(compound_ids[(demo_community_id, resident_compound.code)], number)],
        resident_row[0],
        resident_row[2],
    )
    _users_create_missing(
        {
            "resident": dict(
                role=Role.RESIDENT,
                first_name=resident_row[3],
                household_id=household_ids[resident_key],
                phone=resident_row[12][0],
            )
        },
        hashed=hashed,
        created=created,
    )

    totals = {
        "districts": len(DISTRICTS),
        "offices": len(plan.offices),
        "communities": len(plan.communities),
        "compounds": len(compound_ids),
        "buildings": len(building_ids),
        "households": len(household_rows),
        "phones": sum(len(row[12]) for row in household_rows.values()),
        "accounts": len(wanted_users) + 1,
    }
    return DemoResult(
        totals=totals,
        created={label: created[label] for label in totals},
        accounts=_accounts(),
        community_workers=sorted(u for u in wanted_users if u.startswith("worker-")),
        seconds=time.monotonic() - started,
    )


def _households_save(
    plan: _Plan,
    *,
    community_ids: dict[str, int],
    compound_ids: dict[tuple, int],
    building_ids: dict[tuple, int],
    user_ids: dict[str, int],
    created: Counter,
) -> tuple[dict[tuple, int], dict[tuple, list]]:
    """Insert the missing households and phones; return address → id and address → planned row.

    At 250,000 households this is the bulk of the work. An address is (building id, unit, room).
    """
    household_rows: dict[tuple[int, str, str], list] = {}
    assigned: dict[tuple[int, str, str], int] = {}
    for community in plan.communities:
        worker_id = user_ids["worker" if community is plan.demo else f"worker-{community.code}"]
        for compound in community.compounds:
            compound_id = compound_ids[(community_ids[community.code], compound.code)]
            for number, _level, rows in compound.buildings:
                building_id = building_ids[(compound_id, number)]
                for row in rows:
                    address = (building_id, row[0], row[2])
                    household_rows[address] = row
                    if row[6]:
                        assigned[address] = worker_id

    ours = Household.objects.filter(building__compound__community_id__in=list(community_ids.values()))
    existing: dict[tuple[int, str, str], int] = {}
    for pk, building_id, unit, room, contact_name in ours.values_list(
        "pk", "building_id", "unit", "room", "contact_name"
    ):
        existing[(building_id, unit, room)] = pk
        row = household_rows.get((building_id, unit, room))
        if row is not None and row[3] != contact_name:
            _refuse_other_city(f"{unit}-{room} {contact_name}", row[3])
    had_households = bool(existing)
    missing = [address for address in household_rows if address not in existing]
    now = timezone.now()
    new_rows = []
    for address in missing:
        building_id, unit, room = address
        row = household_rows[address]
        new_rows.append((building_id, unit, row[1], room, *row[3:12], assigned.get(address), now, now, False))
    _insert_rows(Household, HOUSEHOLD_COLUMNS, new_rows)
    created["households"] += len(missing)
    if missing:
        existing = {(b, unit, room): pk for pk, b, unit, room in ours.values_list("pk", "building_id", "unit", "room")}
    household_ids = {address: existing[address] for address in household_rows}

    # The first phone is the primary one. Only households that existed before can have phones.
    existing_phones = (
        set(HouseholdPhone.objects.filter(household__in=ours).values_list("household_id", "number"))
        if had_households
        else set()
    )
    new_phones = [
        (household_ids[address], number, i == 0)
        for address, row in household_rows.items()
        for i, number in enumerate(row[12])
        if (household_ids[address], number) not in existing_phones
    ]
    _insert_rows(HouseholdPhone, ("household_id", "number", "is_primary"), new_phones)
    created["phones"] += len(new_phones)
    return household_ids, household_rows


def _insert_missing(model, *, key_fields, scope, wanted, created, label, same: str | None = None) -> dict[tuple, int]:
    """Insert the rows of ``wanted`` (natural key → other fields) that are missing; return key → id.

    With ``same``, a row that exists must have that field as planned, or the city is another one.
    """
    queryset = model.objects.filter(**scope)
    extra = (same,) if same else ()

    def read() -> dict[tuple, tuple]:
        width = len(key_fields)
        return {tuple(v[:width]): v[width:] for v in queryset.values_list(*key_fields, "pk", *extra)}

    rows = read()
    if same:
        for key, (_pk, value) in rows.items():
            if key in wanted and wanted[key][same] != value:
                _refuse_other_city(f"{key[-1]} {value}", wanted[key][same])
    missing = [key for key in wanted if key not in rows]
    if missing:
        for chunk in _chunks(missing):
            model.objects.bulk_create(
                [model(**dict(zip(key_fields, key, strict=True)), **wanted[key]) for key in chunk],
                batch_size=BATCH_SIZE,
                ignore_conflicts=True,
            )
        rows = read()
    lost = [key for key in wanted if key not in rows]
    if lost:
        raise BaogongError(
            _("Cannot create the demo %(what)s: %(count)d clash with rows of other codes. %(hint)s")
            % {"what": label, "count": len(lost), "hint": _(_SEED_HINT)}
        )
    created[label] += len(missing)
    return {key: rows[key][0] for key in wanted}


_SEED_HINT = gettext_noop("Seed with the same --households and --seed as before, or start from an empty database.")


def _refuse_other_city(found: str, planned: str) -> None:
    raise BaogongError(
        _(
            "This database holds a demo city built with other arguments (found “%(found)s” where “%(planned)s” belongs). %(hint)s"
        )
        % {"found": found, "planned": planned, "hint": _(_SEED_HINT)}
    )


def _users_create_missing(wanted: dict[str, dict], *, hashed, created) -> dict[str, int]:
    existing = dict(User.objects.filter(username__in=list(wanted)).values_list("username", "pk"))
    missing = [username for username in wanted if username not in existing]
    if missing:
        User.objects.bulk_create(
            [User(username=username, password=hashed(), **wanted[username]) for username in missing],
            batch_size=BATCH_SIZE,
            ignore_conflicts=True,
        )
        existing = dict(User.objects.filter(username__in=list(wanted)).values_list("username", "pk"))
    lost = [username for username in wanted if username not in existing]
    if lost:
        raise BaogongError(
            _("Cannot create the demo account “%(username)s”: another account already uses its phone number.")
            % {"username": lost[0]}
        )
    created["accounts"] += len(missing)
    return existing


def _insert_rows(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert ``rows`` (values in ``fields`` order), skipping rows that clash with a unique constraint.

    On PostgreSQL (psycopg2) the rows are ``COPY``-ed into a temporary table and moved with one
    ``INSERT … SELECT … ON CONFLICT DO NOTHING``: at 250,000 households that is three times
    faster than ``bulk_create``, whose model instances and huge ``VALUES`` lists cost more than the
    database's own work. Elsewhere (SQLite) it is ``bulk_create(ignore_conflicts=True)``. Either
    way ``rows`` must give every column without a database default, ``auto_now`` ones included.
    """
    if not rows:
        return
    if connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg2":
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        scratch = quote(f"seed_{model._meta.db_table}")
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"
            )
            for chunk in _chunks(rows, 50_000):
                text = "".join("\t".join(map(_copy_text, row)) + "\n" for row in chunk)
                cursor.cursor.copy_expert(f"COPY {scratch} ({columns}) FROM STDIN", io.StringIO(text))
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {scratch} ON CONFLICT DO NOTHING")
            cursor.execute(f"DROP TABLE {scratch}")
        return
    for chunk in _chunks(rows):
        model.objects.bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in chunk],
            batch_size=BATCH_SIZE,
            ignore_conflicts=True,
        )


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _accounts() -> list[DemoAccount]:
    """The demo accounts as they are in the database, with the place each one sees."""
    users = {
        user.username: user
        for user in User.objects.filter(username__in=DEMO_USERNAMES).select_related(
            "household__building__compound", "community", "office", "district", "supplier"
        )
    }
    accounts = []
    for username in DEMO_USERNAMES:
        user = users[username]
        if user.household_id:
            scope = f"{user.household.address} · {phone_display(user.phone).replace(' ', '')}"
        else:
            scope = str(
                user.community
                or user.office
                or user.district
                or user.supplier
                or ("全市" if user.role == Role.TASKFORCE else "—")
            )
        accounts.append(DemoAccount(username=username, role=user.role, scope=scope))
    return accounts


def demo_registration_example() -> tuple[str, str] | None:
    """A household of the demo resident's community that has no account yet: its phone number and
    address, printed by ``seed_demo`` for trying the registration (the code is shown by the demo)."""
    resident = User.objects.filter(username="resident").select_related("household__building__compound").first()
    if resident is None or resident.household is None:
        return None
    household = (
        Household.objects.filter(
            residents__isnull=True,
            phones__is_primary=True,
            building__compound__community_id=resident.household.building.compound.community_id,
        )
        .select_related("building__compound")
        .order_by("pk")
        .first()
    )
    if household is None:
        return None
    return phone_display(household.phones.get(is_primary=True).number), household.address
