"""Deterministic demo-data generator for 常州市天宁区's virtual nursing home (虚拟养老院).

`generate(residents, seed=..., start_date=...)` returns a `DemoData` of plain row dicts, one list per
table, keyed by column name, with explicit integer ids starting at 1. It is pure: it reads no clock
unless `start_date` is omitted, touches no database and uses only its own `random.Random(seed)` and a
seeded `Faker("zh_CN")`, so the same arguments always give the same rows (password hashes included:
their salts are derived from the seed).

Figures follow `/work/shared/domain.md`: 70% single-person and 30% two-person households, ≈28% of
residents aged 80+, resident categories in the proportions of the 民政 work plans, capability levels
of GB/T 42195-2022, one home alarm unit (一键通) per household and the smart terminals of three care
centers. The first six street names are the real 街道 of 天宁区; the others, the community and road
names are plausible but illustrative.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any

from faker import Faker
from faker.providers.person.zh_CN import Provider as ZhPersonProvider
from pwdlib import PasswordHash

from eldercare_common.mqtt_auth import SALT_BYTES, demo_device_password
from eldercare_common.mqtt_auth import hash_password as hash_mqtt_password
from eldercare_common.settings import DEMO_DEVICE_SECRET, DEMO_SPARE_DEVICE_SERIAL
from eldercare_platform.areas.models import AreaLevel
from eldercare_platform.core.clock import LOCAL_TIMEZONE, SYSTEM_CLOCK, Clock, local_date
from eldercare_platform.devices.models import DeviceKind, DeviceState
from eldercare_platform.facilities.models import CareCenterKind, MealPointKind
from eldercare_platform.residents.models import (
    CapabilityLevel,
    Gender,
    ResidentCategory,
    ResidentStatus,
)
from eldercare_platform.roster.models import Skill, StaffRole
from eldercare_platform.seed.rules import proposed_tier
from eldercare_platform.seed.services import add_services
from eldercare_platform.users.models import Role

Row = dict[str, Any]

MIN_RESIDENTS = 1_000
MAX_RESIDENTS = 50_000
DEFAULT_SEED = 20_240_601

LOCAL_TZ = LOCAL_TIMEZONE  # the residents' calendar: one definition, in core/clock.py

DEMO_PASSWORD = "eldercare-demo"
"""The shared password of every demo user (public: demo and test environments only)."""

DEMO_USERS: list[tuple[str, str, str]] = [
    ("admin", Role.ADMIN.value, "平台管理员: platform administrator, sees everything"),
    ("operator1", Role.OPERATOR.value, "12349 呼叫中心坐席: call-center operator (staff record linked)"),
    ("operator2", Role.OPERATOR.value, "12349 呼叫中心坐席: second operator, on the other team"),
    ("supervisor_district", Role.SUPERVISOR.value, "区民政局: supervisor scoped to 天宁区"),
    ("supervisor_street", Role.SUPERVISOR.value, "街道民政: supervisor scoped to the first street"),
    ("supervisor_home", Role.SUPERVISOR.value, "机构负责人: supervisor scoped to the first institution"),
    ("caregiver1", Role.CAREGIVER.value, "护理员: field caregiver, the first caregiver's staff record"),
    (
        "coordinator1",
        Role.COORDINATOR.value,
        "社区负责人: coordinator scoped to the community with the most caregivers (its board, plans, alerts)",
    ),
]
"""Demo users as (username, role, description); all log in with `DEMO_PASSWORD`."""

CAREGIVER_USERNAME = "caregiver{number}"
"""Every caregiver staff record has a demo account too: `caregiver1`, `caregiver2`, … in staff id order (the
first is the named `caregiver1` above), so the simulated caregivers (`python -m eldercare_sim caregivers`) can sign
in as any of them. Their accounts follow the named demo users' ids."""

TABLE_ORDER: tuple[str, ...] = (
    "area",
    "care_center",
    "meal_point",
    "institution",
    "household",
    "resident",
    "emergency_contact",
    "device",
    "device_credential",
    "staff",
    "staff_certification",
    "shift_pattern",
    "shift",
    "app_user",
    "assessment",
    "care_plan",
)
"""Table names in foreign-key order (every table only references tables before it)."""

# --- reference data ------------------------------------------------------------------------------
# fmt: off

CITY = ("常州市", "3204")
DISTRICT = ("天宁区", "320402")
CITY_LAT, CITY_LON = 31.78, 119.97
STREET_NAMES = (
    "天宁街道", "兰陵街道", "雕庄街道", "青龙街道", "红梅街道", "茶山街道",
    "郑陆街道", "丽华街道", "东坡街道", "舣舟街道", "焦溪街道", "三河口街道",
)
COMMUNITY_PREFIXES = (
    "丽华", "红梅", "青山", "翠竹", "东方", "朝阳", "兰园", "天宁", "局前", "罗汉", "虹景", "清潭",
    "北环", "东横", "青龙", "茶山", "雕庄", "采菱", "永宁", "竹林", "和平", "博爱", "延陵", "常澄",
    "龙锦", "锦绣", "阳光", "凤凰", "新丰", "晋陵", "桃园", "梅龙", "东青", "舜山", "百馨", "景秀",
)
COMMUNITY_SUFFIXES = ("社区", "新村社区", "一村社区", "二村社区", "花园社区", "苑社区")
ROAD_NAMES = (
    "延陵东路", "和平北路", "晋陵北路", "竹林北路", "劳动东路", "关河东路", "青洋北路", "中吴大道",
    "丽华北路", "红梅东路", "北环路", "龙锦路", "东横街", "罗汉路", "光华路", "兰陵北路", "北直街",
    "清凉路", "采菱路", "博爱路", "常澄路", "青龙东路", "雕庄路", "茶山路", "永宁北路", "虹景路",
    "翠竹路", "朝阳北路", "东方东路", "紫云路", "新丰街", "焦溪路", "郑陆路", "舣舟路", "天宁寺巷",
)
ACCESS_NOTES = (
    "单元门禁密码 {code}#", "院内养狗,请先敲门", "六楼无电梯,担架需从楼梯下", "老人听力差,请多敲门并大声呼喊",
    "钥匙托管在社区居委会", "单元门常锁,请先联系网格员", "门口有台阶,轮椅需帮扶", "夜间小区北门关闭,请走南门",
    "家中有氧气瓶,注意明火", "老人独处时常反锁房门",
)
DIALECT_NOTES = (
    "只说常州话,普通话听不懂", "听力下降,请大声、慢速说话", "戴助听器,电话需多次呼叫",
    "常州方言,请尽量由本地坐席接听", "视力差,看不清指示灯", "说话含糊(脑卒中后),需耐心确认",
)
HEALTH_CONDITIONS: tuple[tuple[str, float], ...] = (
    ("高血压", 0.50), ("糖尿病", 0.18), ("冠心病", 0.14), ("骨质疏松", 0.18), ("骨关节炎", 0.14),
    ("白内障", 0.10), ("慢阻肺", 0.07), ("脑卒中后遗症", 0.05), ("慢性肾病", 0.04), ("帕金森病", 0.02),
)
DEMENTIA_CONDITION = "阿尔茨海默病"
STROKE_CONDITION = "脑卒中后遗症"

ELDER_GIVEN_MALE = (
    "建国", "国华", "志明", "德明", "永康", "福生", "根生", "金宝", "荣生", "国平", "建华", "志刚", "振华",
    "文华", "家明", "炳生", "国良", "保国", "洪根", "春生", "耀明", "正兴", "金海", "锡林", "鹤年", "仁和",
)
ELDER_GIVEN_FEMALE = (
    "秀英", "桂英", "秀兰", "玉兰", "凤英", "桂兰", "玉珍", "秀珍", "美华", "金娣", "彩英", "招娣", "月英",
    "菊英", "素珍", "惠芬", "淑芬", "雪英", "美娟", "文英", "琴芳", "小妹", "阿娥", "巧云", "芝兰", "宝珍",
)
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158",
    "159", "177", "180", "181", "182", "187", "188", "189", "199",
)

# Age bands (inclusive) and weights: ≈28% of residents are 80+ (高龄).
AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (60, 64, 0.19), (65, 69, 0.19), (70, 74, 0.17), (75, 79, 0.17),
    (80, 84, 0.13), (85, 89, 0.09), (90, 94, 0.045), (95, 100, 0.015),
)


def _disability_factor(age: int) -> float:
    """Relative risk of (semi-)disability by age."""
    return 1.0 if age < 70 else 2.0 if age < 80 else 4.0 if age < 90 else 7.0


def _dementia_factor(age: int) -> float:
    """Relative risk of dementia by age."""
    return 1.0 if age < 70 else 2.5 if age < 80 else 6.0 if age < 90 else 10.0


def _band_mean(factor: Callable[[int], float]) -> float:
    total = sum(w for _, _, w in AGE_BANDS)
    weighted = sum(w * sum(map(factor, range(lo, hi + 1))) / (hi - lo + 1) for lo, hi, w in AGE_BANDS)
    return weighted / total


_MEAN_DISABILITY = _band_mean(_disability_factor)
_MEAN_DEMENTIA = _band_mean(_dementia_factor)

# Category shares over all residents (domain.md); see `_Builder._residents` for how they combine.
SHARE_LIVING_ALONE = 0.25
SHARE_EMPTY_NEST = 0.40
SHARE_EXTREME_POVERTY = 0.02
SHARE_MINIMUM_INCOME = 0.05
SHARE_MARGINAL_INCOME = 0.03
SHARE_DISABLED = 0.08
SHARE_SEMI_DISABLED = 0.12
SHARE_DEMENTIA = 0.05
SHARE_LOST_ONLY_CHILD = 0.01
SHARE_LEFT_BEHIND = 0.05
SINGLE_HOUSEHOLD_SHARE = 0.70

DEVICE_PREFIX: dict[DeviceKind, str] = {
    DeviceKind.HOME_ALARM_UNIT: "HA",
    DeviceKind.FALL_DETECTOR: "FD",
    DeviceKind.SMOKE_SENSOR: "SM",
    DeviceKind.GAS_SENSOR: "GS",
    DeviceKind.WATER_SENSOR: "WL",
    DeviceKind.DOOR_CONTACT: "DC",
    DeviceKind.VITALS_MONITOR: "VM",
    DeviceKind.SMART_MATTRESS: "MT",
    DeviceKind.CHECKIN_TERMINAL: "CK",
    DeviceKind.ROOM_SENSOR: "RS",
    DeviceKind.CANTEEN_CHECKIN: "CT",
    DeviceKind.CAMERA: "CM",
}
DEVICE_MODELS: dict[DeviceKind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    DeviceKind.HOME_ALARM_UNIT: (("EC-HA100-4G", "EC-HA200-4G", "EC-HA210-WIFI"), ("2.1.4", "2.3.1")),
    DeviceKind.FALL_DETECTOR: (("EC-FD30-MMW", "EC-FD20-WRIST"), ("1.4.2", "1.5.0")),
    DeviceKind.SMOKE_SENSOR: (("EC-SM10-NB",), ("1.0.8", "1.1.0")),
    DeviceKind.GAS_SENSOR: (("EC-GS10-NG",), ("1.2.1",)),
    DeviceKind.WATER_SENSOR: (("EC-WL05-ZB",), ("1.0.3",)),
    DeviceKind.DOOR_CONTACT: (("EC-DC02-ZB",), ("1.1.5",)),
    DeviceKind.VITALS_MONITOR: (("EC-VM500",), ("3.0.2", "3.1.0")),
    DeviceKind.SMART_MATTRESS: (("EC-MT80",), ("2.0.6",)),
    DeviceKind.CHECKIN_TERMINAL: (("EC-CK900-FACE",), ("4.2.0",)),
    DeviceKind.ROOM_SENSOR: (("EC-RS60-MMW",), ("1.3.3",)),
    DeviceKind.CANTEEN_CHECKIN: (("EC-CT300-FACE",), ("2.2.1",)),
    DeviceKind.CAMERA: (("EC-CM4MP-POE",), ("5.7.3",)),
}
# Optional home sensors: kind and share of households.
HOME_SENSOR_SHARES: tuple[tuple[DeviceKind, float], ...] = (
    (DeviceKind.SMOKE_SENSOR, 0.20),
    (DeviceKind.GAS_SENSOR, 0.10),
    (DeviceKind.WATER_SENSOR, 0.03),
    (DeviceKind.DOOR_CONTACT, 0.05),
)
FALL_DETECTOR_SHARE = 0.10
CARE_CENTER_DEVICES: tuple[tuple[DeviceKind, int], ...] = (
    (DeviceKind.VITALS_MONITOR, 2),
    (DeviceKind.SMART_MATTRESS, 2),
    (DeviceKind.CHECKIN_TERMINAL, 1),
    (DeviceKind.ROOM_SENSOR, 2),
    (DeviceKind.CANTEEN_CHECKIN, 1),
    (DeviceKind.CAMERA, 2),
)
HEARTBEAT_INTERVAL_S = 60

CAREGIVER_SKILLS = (
    Skill.BATHING, Skill.CLEANING, Skill.MEAL_DELIVERY, Skill.MEDICAL_ESCORT, Skill.SHOPPING,
    Skill.NURSING, Skill.REHABILITATION, Skill.PSYCHOLOGICAL_COMFORT, Skill.VISIT,
)
CAREGIVER_CERT = "养老护理员职业技能等级证书"
CERT_LEVEL_NAMES = ("五级", "四级", "三级", "二级")  # 养老护理员 levels, 五级 (entry) to 二级 (technician)
CERT_LEVEL_WEIGHTS = (0.30, 0.40, 0.22, 0.08)
OPERATORS = 8
SHIFT_DAYS = 7  # the first week of shifts (and the night before), from the patterns; see seed/staffing.py


# fmt: on

# --- public helpers ------------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character (0-9 or X) of the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("expected exactly 17 digits")
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def is_valid_id_number(value: str) -> bool:
    """Whether an 18-character resident ID number has a well-formed birth date and check digit."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return id_number_check_digit(value[:17]) == value[17]


def today_in_shanghai(clock: Clock = SYSTEM_CLOCK) -> date:
    """Today's date in Asia/Shanghai by `clock` (the seed command's default `start_date`)."""
    return local_date(clock.now())


@dataclass
class DemoData:
    """Generated rows, one list of column-name → value dicts per table (attribute = table name).

    Values are plain Python: str, int, float, bool, None, date, time, timezone-aware UTC datetime, lists
    for array columns (`varchar[]`, `text[]`, `smallint[]` in the schema) and lists or dicts for `jsonb`
    columns.
    """

    seed: int
    residents_requested: int
    start_date: date
    area: list[Row] = field(default_factory=list)
    care_center: list[Row] = field(default_factory=list)
    meal_point: list[Row] = field(default_factory=list)
    institution: list[Row] = field(default_factory=list)
    household: list[Row] = field(default_factory=list)
    resident: list[Row] = field(default_factory=list)
    emergency_contact: list[Row] = field(default_factory=list)
    device: list[Row] = field(default_factory=list)
    device_credential: list[Row] = field(default_factory=list)
    staff: list[Row] = field(default_factory=list)
    staff_certification: list[Row] = field(default_factory=list)
    shift_pattern: list[Row] = field(default_factory=list)
    shift: list[Row] = field(default_factory=list)
    app_user: list[Row] = field(default_factory=list)
    assessment: list[Row] = field(default_factory=list)
    care_plan: list[Row] = field(default_factory=list)

    def tables(self) -> list[tuple[str, list[Row]]]:
        """(table name, rows) pairs in foreign-key order, ready to load."""
        return [(name, getattr(self, name)) for name in TABLE_ORDER]

    def counts(self) -> dict[str, int]:
        """Row count per table, in foreign-key order."""
        return {name: len(rows) for name, rows in self.tables()}


def generate(residents: int = MIN_RESIDENTS, *, seed: int = DEFAULT_SEED, start_date: date | None = None) -> DemoData:
    """Build the demo data set for `residents` elderly residents (1,000 to 50,000 inclusive).

    `start_date` is the first day of the generated week of shifts and the "today" that ages,
    enrolment and assessment dates are relative to; it defaults to today in Asia/Shanghai (pass it
    explicitly for fully reproducible output).
    """
    if isinstance(residents, bool) or not isinstance(residents, int):
        raise TypeError("residents must be an int")
    if not MIN_RESIDENTS <= residents <= MAX_RESIDENTS:
        raise ValueError(f"residents must be between {MIN_RESIDENTS:,} and {MAX_RESIDENTS:,}, got {residents:,}")
    return _Builder(residents, seed, start_date or today_in_shanghai()).build()


# --- the builder ---------------------------------------------------------------------------------

_SURNAMES: tuple[str, ...] = tuple(ZhPersonProvider.last_names)
_SURNAME_CUM: tuple[float, ...] = tuple(accumulate(ZhPersonProvider.last_names.values()))
_GIVEN_MALE: tuple[str, ...] = tuple(ZhPersonProvider.first_names_male)
_GIVEN_FEMALE: tuple[str, ...] = tuple(ZhPersonProvider.first_names_female)
_AGE_CUM: tuple[float, ...] = tuple(accumulate(w for _, _, w in AGE_BANDS))
_USER_HASHER = PasswordHash.recommended().current_hasher


@lru_cache(maxsize=64)
def _argon2_hash(password: str, salt: bytes) -> str:
    """Argon2id hash with the platform's parameters and a given salt (cached: it is slow on purpose)."""
    return str(_USER_HASHER.hash(password, salt=salt))


def _device_password_hashes(serials: Sequence[str], salts: Sequence[bytes]) -> list[str]:
    """Mosquitto `$7$` hashes of the demo passwords of `serials`, in order.

    PBKDF2 dominates the run time for a city fleet; hashlib releases the GIL, so chunks are hashed on
    a few threads. Output depends only on the inputs.
    """

    def chunk_hashes(bounds: tuple[int, int]) -> list[str]:
        return [
            hash_mqtt_password(demo_device_password(serials[i], DEMO_DEVICE_SECRET), salt=salts[i])
            for i in range(*bounds)
        ]

    size = 2_000
    chunks = [(start, min(start + size, len(serials))) for start in range(0, len(serials), size)]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return [h for part in pool.map(chunk_hashes, chunks) for h in part]


@dataclass
class _Person:
    """A household member while the household is being built."""

    gender: Gender
    age: int
    surname: str
    name: str
    phone: str | None
    categories: set[ResidentCategory] = field(default_factory=set)


class _Builder:
    """Holds the random sources and the partly built data while generating."""

    def __init__(self, residents: int, seed: int, start_date: date) -> None:
        self.n = residents
        self.seed = seed
        self.start = start_date
        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.data = DemoData(seed=seed, residents_requested=residents, start_date=start_date)
        # "now" for the data set: midnight local time at the start date, in UTC.
        self.ref = datetime.combine(start_date, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
        self.communities: list[Row] = []
        self.streets: list[Row] = []
        self.district: Row = {}
        self.roads: dict[int, tuple[str, ...]] = {}
        self.grid_workers: dict[int, list[tuple[str, str]]] = {}
        self.id_sequence: dict[tuple[date, Gender], int] = {}
        self.used_addresses: set[str] = set()
        self.serials: dict[DeviceKind, int] = {kind: 0 for kind in DeviceKind}

    # small helpers ---------------------------------------------------------------------------

    def mobile(self) -> str:
        """A plausible mainland mobile number."""
        return f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(100_000_000):08d}"

    def landline(self) -> str:
        """A Changzhou landline (area code 0519)."""
        return f"0519-8{self.rng.randrange(10_000_000):07d}"

    def surname(self) -> str:
        """A surname, weighted by frequency."""
        return self.rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]

    def elder_name(self, gender: Gender, surname: str) -> str:
        """A name typical of people born 1925–1965."""
        rng = self.rng
        if gender is Gender.MALE:
            given = rng.choice(ELDER_GIVEN_MALE) if rng.random() < 0.6 else rng.choice(_GIVEN_MALE)
        else:
            given = rng.choice(ELDER_GIVEN_FEMALE) if rng.random() < 0.6 else rng.choice(_GIVEN_FEMALE)
        return surname + given

    def younger_name(self, gender: Gender, surname: str | None = None) -> str:
        """A name for a child, neighbour or grid worker."""
        pool = _GIVEN_MALE if gender is Gender.MALE else _GIVEN_FEMALE
        given = self.rng.choice(pool)
        if len(given) == 1 and self.rng.random() < 0.4:
            given += self.rng.choice(pool)[-1]
        return (surname or self.surname()) + given

    def faker_name(self, gender: Gender) -> str:
        """A name from the seeded Faker (staff and users)."""
        return str(self.fake.name_male() if gender is Gender.MALE else self.fake.name_female())

    def gender(self, female_share: float = 0.5) -> Gender:
        """A gender with the given female share."""
        return Gender.FEMALE if self.rng.random() < female_share else Gender.MALE

    def past_time(self, max_days: int, min_days: int = 0) -> datetime:
        """A UTC instant between `max_days` and `min_days` days before the reference time."""
        seconds = self.rng.randrange(min_days * 86_400, max_days * 86_400)
        return self.ref - timedelta(seconds=seconds)

    def jitter(self, lat: float, lon: float, spread: float) -> tuple[float, float]:
        """A point near (lat, lon), rounded to ~0.1 m."""
        return (
            round(lat + self.rng.uniform(-spread, spread), 6),
            round(lon + self.rng.uniform(-spread, spread) * 1.15, 6),
        )

    def birth_date(self, age: int) -> date:
        """A birth date such that the person is exactly `age` on the start date."""
        latest = _years_before(self.start, age)
        earliest = _years_before(self.start, age + 1) + timedelta(days=1)
        return earliest + timedelta(days=self.rng.randrange((latest - earliest).days + 1))

    def id_number(self, birth: date, gender: Gender) -> str:
        """A valid 18-digit ID: district code, birth date, sequence (odd for men) and check digit."""
        key = (birth, gender)
        k = self.id_sequence.get(key)
        k = self.rng.randrange(150) if k is None else k + 1
        self.id_sequence[key] = k
        seq = 2 * k + (1 if gender is Gender.MALE else 2)
        first17 = f"{DISTRICT[1]}{birth:%Y%m%d}{seq:03d}"
        return first17 + id_number_check_digit(first17)

    def serial(self, kind: DeviceKind) -> str:
        """The next serial of a kind: two-letter prefix and seven digits."""
        self.serials[kind] += 1
        return f"{DEVICE_PREFIX[kind]}{self.serials[kind]:07d}"

    # tables ----------------------------------------------------------------------------------

    def build(self) -> DemoData:
        """Generate every table."""
        self._areas()
        self._facilities()
        self._households_and_residents()
        self._devices()
        self._staff()
        add_services(self)  # assessments, care plans, meal capacity, the roster's patterns and shifts
        self._users()
        return self.data

    def _areas(self) -> None:
        rng = self.rng
        rows = self.data.area
        city = {
            "id": 1,
            "code": CITY[1],
            "name": CITY[0],
            "level": AreaLevel.CITY.value,
            "parent_id": None,
            "path": "/1/",
        }
        district = {
            "id": 2,
            "code": DISTRICT[1],
            "name": DISTRICT[0],
            "level": AreaLevel.DISTRICT.value,
            "parent_id": 1,
            "path": "/1/2/",
        }
        rows += [city, district]
        self.district = district
        n_streets = min(12, max(3, 3 + round(9 * (self.n - MIN_RESIDENTS) / (MAX_RESIDENTS - MIN_RESIDENTS))))
        # Unique community names: every prefix once before any prefix repeats (丽华社区, then 丽华一村社区).
        prefixes = rng.sample(COMMUNITY_PREFIXES, len(COMMUNITY_PREFIXES))
        suffixes = {prefix: rng.sample(COMMUNITY_SUFFIXES, len(COMMUNITY_SUFFIXES)) for prefix in prefixes}
        names = iter([prefix + suffixes[prefix][r] for r in range(len(COMMUNITY_SUFFIXES)) for prefix in prefixes])
        next_id = 3
        for s in range(n_streets):
            street_code = f"{DISTRICT[1]}{s + 1:03d}"
            lat, lon = self.jitter(CITY_LAT, CITY_LON, 0.035)
            street: Row = {
                "id": next_id,
                "code": street_code,
                "name": STREET_NAMES[s],
                "level": AreaLevel.STREET.value,
                "parent_id": 2,
                "path": f"/1/2/{next_id}/",
                "_lat": lat,
                "_lon": lon,
            }
            next_id += 1
            self.streets.append(street)
        for street in self.streets:
            for c in range(rng.randint(4, 8)):
                lat, lon = self.jitter(street["_lat"], street["_lon"], 0.012)
                community: Row = {
                    "id": next_id,
                    "code": f"{street['code']}{c + 1:03d}",
                    "name": next(names),
                    "level": AreaLevel.COMMUNITY.value,
                    "parent_id": street["id"],
                    "path": f"{street['path']}{next_id}/",
                    "_lat": lat,
                    "_lon": lon,
                    "_street": street["name"],
                }
                next_id += 1
                self.communities.append(community)
                self.roads[community["id"]] = tuple(rng.sample(ROAD_NAMES, rng.randint(2, 3)))
                self.grid_workers[community["id"]] = [
                    (self.younger_name(self.gender(0.7)), self.mobile()) for _ in range(2)
                ]
        for area in self.streets + self.communities:
            rows.append({k: v for k, v in area.items() if not k.startswith("_")})

    def _address(self, community: Row) -> str:
        """A unique address like 天宁区红梅街道丽华社区丽华北路12号3幢2单元401室."""
        rng = self.rng
        prefix = f"{DISTRICT[0]}{community['_street']}{community['name']}"
        while True:
            road = rng.choice(self.roads[community["id"]])
            number = rng.randint(1, 260)
            if rng.random() < 0.08:  # older single-storey houses (平房)
                address = f"{prefix}{road}{number}号"
            else:
                floor = rng.choices((1, 2, 3, 4, 5, 6, 7), cum_weights=(16, 32, 48, 64, 80, 96, 100))[0]
                address = (
                    f"{prefix}{road}{number}号{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元"
                    f"{floor}{rng.randint(1, 3):02d}室"
                )
            if address not in self.used_addresses:
                self.used_addresses.add(address)
                return address

    def _facility(self, fid: int, name: str, community: Row, spread: float = 0.003) -> Row:
        lat, lon = self.jitter(community["_lat"], community["_lon"], spread)
        road = self.rng.choice(self.roads[community["id"]])
        return {
            "id": fid,
            "name": name,
            "area_id": community["id"],
            "address": f"{DISTRICT[0]}{community['_street']}{road}{self.rng.randint(1, 300)}号",
            "phone": self.landline(),
            "latitude": lat,
            "longitude": lon,
        }

    def _facilities(self) -> None:
        rng = self.rng
        # Three care centers in communities of different streets, one of each kind.
        kinds = list(CareCenterKind)
        streets = rng.sample(self.streets, 3)
        for i, (kind, street) in enumerate(zip(kinds, streets, strict=True), start=1):
            community = rng.choice([c for c in self.communities if c["parent_id"] == street["id"]])
            name = {
                CareCenterKind.HOME_CARE_CENTER: f"{street['name']}居家养老服务中心",
                CareCenterKind.DAY_CARE_CENTER: f"{community['name']}日间照料中心",
                CareCenterKind.TOWNSHIP_CENTER: f"{street['name']}区域性养老服务中心",
            }[kind]
            row = self._facility(i, name, community)
            row.update(kind=kind.value, capacity=rng.randrange(30, 121, 5))
            self.data.care_center.append(row)
        # About one meal point per two communities.
        n_meal = max(2, round(len(self.communities) / 2))
        truck_no = 0
        for i, community in enumerate(sorted(rng.sample(self.communities, n_meal), key=lambda c: c["id"]), 1):
            meal_kind = rng.choices(list(MealPointKind), weights=(0.3, 0.5, 0.2))[0]
            if meal_kind is MealPointKind.MEAL_TRUCK:
                truck_no += 1
                name, capacity, delivers = f"天宁区流动助餐车{truck_no}号({community['name']})", 80, True
            elif meal_kind is MealPointKind.CANTEEN:
                name, capacity = f"{community['name']}老年食堂", rng.randrange(120, 301, 10)
                delivers = rng.random() < 0.4
            else:
                name, capacity = f"{community['name']}助餐点", rng.randrange(40, 121, 10)
                delivers = rng.random() < 0.5
            row = self._facility(i, name, community)
            row.update(kind=meal_kind.value, daily_capacity=capacity, delivers=delivers)
            self.data.meal_point.append(row)
        # Two or three institutions (养老机构).
        inst_names = ("天宁区社会福利中心", "常州市天宁区颐养院", "红梅护理院", "康乐养老公寓")
        for i, name in enumerate(rng.sample(inst_names, rng.randint(2, 3)), start=1):
            community = rng.choice(self.communities)
            beds = rng.randrange(80, 401, 10)
            row = self._facility(i, name, community)
            row.update(beds=beds, nursing_beds=round(beds * rng.uniform(0.30, 0.70)), star_rating=rng.randint(1, 5))
            self.data.institution.append(row)

    def _households_and_residents(self) -> None:
        rng = self.rng
        n = self.n
        n_households = round(n / (1 + (1 - SINGLE_HOUSEHOLD_SHARE)))
        couples = n - n_households
        singles = n_households - couples
        sizes = [1] * singles + [2] * couples
        rng.shuffle(sizes)
        # Probabilities per eligible unit that give the domain shares over all residents.
        p_alone = min(1.0, SHARE_LIVING_ALONE * n / singles)
        p_empty_nest = min(1.0, SHARE_EMPTY_NEST * n / (2 * couples))
        p_extreme = min(1.0, SHARE_EXTREME_POVERTY * n / singles)
        p_left = min(1.0, SHARE_LEFT_BEHIND / (SHARE_LIVING_ALONE + 2 * couples / n))
        community_weights = list(accumulate(rng.uniform(0.6, 1.4) for _ in self.communities))
        resident_id = 0
        contact_id = 0
        for hid, size in enumerate(sizes, start=1):
            community = rng.choices(self.communities, cum_weights=community_weights)[0]
            enrolled = self.past_time(3 * 365, 16)
            lat, lon = self.jitter(community["_lat"], community["_lon"], 0.004)
            access = None
            if rng.random() < 0.22:
                access = rng.choice(ACCESS_NOTES).format(code=f"{rng.randrange(10_000):04d}")
            household = {
                "id": hid,
                "area_id": community["id"],
                "address": self._address(community),
                "landline": self.landline() if rng.random() < 0.35 else None,
                "latitude": lat,
                "longitude": lon,
                "access_notes": access,
                "enrolled_at": enrolled,
            }
            self.data.household.append(household)
            members = self._members(size)
            # Household-level categories.
            lost_only_child = rng.random() < SHARE_LOST_ONLY_CHILD
            income = rng.random()
            for person in members:
                if lost_only_child:
                    person.categories.add(ResidentCategory.LOST_ONLY_CHILD)
                if income < SHARE_MINIMUM_INCOME:
                    person.categories.add(ResidentCategory.MINIMUM_INCOME)
                elif income < SHARE_MINIMUM_INCOME + SHARE_MARGINAL_INCOME:
                    person.categories.add(ResidentCategory.MARGINAL_INCOME)
            if size == 1:
                person = members[0]
                if rng.random() < p_alone:
                    person.categories.add(ResidentCategory.LIVING_ALONE)
                if rng.random() < p_extreme:  # 特困: no income and no legal supporter, replaces 低保/低边
                    person.categories -= {ResidentCategory.MINIMUM_INCOME, ResidentCategory.MARGINAL_INCOME}
                    person.categories.add(ResidentCategory.EXTREME_POVERTY)
            elif rng.random() < p_empty_nest:
                for person in members:
                    person.categories.add(ResidentCategory.EMPTY_NEST)
            if (size == 2 or ResidentCategory.LIVING_ALONE in members[0].categories) and rng.random() < p_left:
                for person in members:
                    person.categories.add(ResidentCategory.LEFT_BEHIND)
            first_resident_id = resident_id + 1
            for person in members:
                resident_id += 1
                self.data.resident.append(self._resident_row(resident_id, hid, person, enrolled))
            contact_id = self._contacts(contact_id, first_resident_id, members, household, community)

    def _members(self, size: int) -> list[_Person]:
        rng = self.rng
        band = AGE_BANDS[_bisect(_AGE_CUM, rng.random() * _AGE_CUM[-1])]
        age = rng.randint(band[0], band[1])
        if size == 1:
            gender = self.gender(0.65)  # widows outnumber widowers
            surname = self.surname()
            return [_Person(gender, age, surname, self.elder_name(gender, surname), self._phone_or_none(age))]
        first_gender = self.gender()
        spouse_gender = Gender.FEMALE if first_gender is Gender.MALE else Gender.MALE
        offset = rng.randint(0, 5) * (-1 if first_gender is Gender.MALE else 1) + rng.randint(-1, 1)
        spouse_age = min(100, max(60, age + offset))
        people = []
        for gender, a in ((first_gender, age), (spouse_gender, spouse_age)):
            surname = self.surname()
            people.append(_Person(gender, a, surname, self.elder_name(gender, surname), self._phone_or_none(a)))
        return people

    def _phone_or_none(self, age: int) -> str | None:
        return self.mobile() if self.rng.random() < (0.85 if age < 80 else 0.55) else None

    def _resident_row(self, rid: int, hid: int, person: _Person, enrolled: datetime) -> Row:
        rng = self.rng
        cats = person.categories
        age = person.age
        if age >= 80:
            cats.add(ResidentCategory.ADVANCED_AGE)
        disability = rng.random() * _MEAN_DISABILITY / _disability_factor(age)
        if disability < SHARE_DISABLED:
            cats.add(ResidentCategory.DISABLED)
        elif disability < SHARE_DISABLED + SHARE_SEMI_DISABLED:
            cats.add(ResidentCategory.SEMI_DISABLED)
        if rng.random() * _MEAN_DEMENTIA / _dementia_factor(age) < SHARE_DEMENTIA:
            cats.add(ResidentCategory.DEMENTIA)
        # Capability level (GB/T 42195-2022), consistent with the categories.
        if ResidentCategory.DISABLED in cats:
            level = CapabilityLevel.SEVERE if rng.random() < 0.6 else CapabilityLevel.TOTAL
        elif cats & {ResidentCategory.SEMI_DISABLED, ResidentCategory.DEMENTIA}:
            level = CapabilityLevel.MILD if rng.random() < 0.6 else CapabilityLevel.MODERATE
        else:
            u = rng.random()
            level = (
                CapabilityLevel.INTACT if u < 0.80 else CapabilityLevel.MILD if u < 0.945 else CapabilityLevel.MODERATE
            )
        tier, _ = proposed_tier({c.value for c in cats}, level.value, age)  # the care plan may override it
        conditions = [name for name, p in HEALTH_CONDITIONS if rng.random() < p * (1.3 if age >= 80 else 1.0)]
        if ResidentCategory.DISABLED in cats and STROKE_CONDITION not in conditions and rng.random() < 0.35:
            conditions.append(STROKE_CONDITION)
        if ResidentCategory.DEMENTIA in cats:
            conditions.append(DEMENTIA_CONDITION)
        assessed = max(self.start - timedelta(days=rng.randint(1, 182)), enrolled.astimezone(LOCAL_TZ).date())
        assessed_at = datetime.combine(assessed, time(rng.randint(9, 16), rng.randrange(60)), tzinfo=LOCAL_TZ)
        consent_at = enrolled + timedelta(minutes=rng.randint(5, 90))
        birth = self.birth_date(age)
        return {
            "id": rid,
            "household_id": hid,
            "name": person.name,
            "gender": person.gender.value,
            "birth_date": birth,
            "id_number": self.id_number(birth, person.gender),
            "phone": person.phone,
            "categories": [c.value for c in ResidentCategory if c in cats],
            "capability_level": level.value,
            "capability_assessed_on": assessed,
            "care_tier": tier.value,
            "health_conditions": conditions,
            "dialect_notes": rng.choice(DIALECT_NOTES) if rng.random() < 0.12 else None,
            "consent_data_processing": rng.random() < 0.97,
            "consent_share_with_family": rng.random() < 0.90,
            "consent_camera": rng.random() < 0.60,
            "consent_recorded_at": consent_at,
            "status": ResidentStatus.ACTIVE.value,
            "created_at": enrolled,
            "updated_at": max(enrolled, assessed_at.astimezone(UTC), consent_at),
        }

    def _contacts(self, contact_id: int, first_rid: int, members: list[_Person], household: Row, community: Row) -> int:
        """Emergency contacts of a household's residents; returns the last contact id used."""
        rng = self.rng
        cats = members[0].categories
        no_children = bool(cats & {ResidentCategory.LOST_ONLY_CHILD, ResidentCategory.EXTREME_POVERTY})
        husband = next((p for p in members if p.gender is Gender.MALE), None)
        family_name = husband.surname if husband else self.surname()
        children: list[tuple[str, str, str, bool]] = []
        if not no_children:
            for _ in range(rng.choices((1, 2, 3), weights=(0.35, 0.4, 0.25))[0]):
                son = rng.random() < 0.5
                children.append(
                    (
                        self.younger_name(Gender.MALE if son else Gender.FEMALE, family_name),
                        "儿子" if son else "女儿",
                        self.mobile(),
                        rng.random() < 0.4,
                    )
                )
            rng.shuffle(children)
        others: list[tuple[str, str, str, bool]] = []
        if rng.random() < (0.6 if no_children else 0.2):
            nephew_male = rng.random() < 0.6
            others.append(
                (
                    self.younger_name(Gender.MALE if nephew_male else Gender.FEMALE, family_name),
                    "侄子" if nephew_male else "侄女",
                    self.mobile(),
                    rng.random() < 0.3,
                )
            )
        if rng.random() < 0.5:
            others.append((self.younger_name(self.gender()), "邻居", self.mobile(), True))
        grid_name, grid_phone = rng.choice(self.grid_workers[community["id"]])
        others.append((grid_name, "网格员", grid_phone, True))
        keyholder = rng.random() < 0.6
        for index, person in enumerate(members):
            candidates = list(children)
            if len(members) == 2:
                spouse = members[1 - index]
                spouse_phone = spouse.phone or household["landline"]
                if spouse_phone:
                    candidates.insert(rng.randint(0, len(candidates)), (spouse.name, "配偶", spouse_phone, True))
            if person.categories & {ResidentCategory.LIVING_ALONE, ResidentCategory.LOST_ONLY_CHILD}:
                candidates = others[:-1] + candidates + others[-1:]
            else:
                candidates += others
            wanted = rng.choices((1, 2, 3), weights=(0.25, 0.45, 0.30))[0]
            chosen = candidates[:wanted]
            holder = -1
            if keyholder and index == 0:
                nearby = [i for i, c in enumerate(chosen) if c[3] and c[1] != "配偶"]
                holder = nearby[0] if nearby else 0
            for priority, (name, relation, phone, nearby_flag) in enumerate(chosen, start=1):
                contact_id += 1
                self.data.emergency_contact.append(
                    {
                        "id": contact_id,
                        "resident_id": first_rid + index,
                        "name": name,
                        "relation": relation,
                        "phone": phone,
                        "priority": priority,
                        "is_keyholder": priority - 1 == holder,
                        "lives_nearby": nearby_flag,
                    }
                )
        return contact_id

    def _device_row(
        self,
        kind: DeviceKind,
        installed: datetime,
        *,
        household_id: int | None = None,
        care_center_id: int | None = None,
        resident_id: int | None = None,
    ) -> Row:
        models, firmwares = DEVICE_MODELS[kind]
        serial = self.serial(kind)
        return {
            "id": len(self.data.device) + 1,
            "serial": serial,
            "kind": kind.value,
            "model": self.rng.choice(models),
            "firmware": self.rng.choice(firmwares),
            "household_id": household_id,
            "care_center_id": care_center_id,
            "institution_id": None,
            "resident_id": resident_id,
            "heartbeat_interval_s": HEARTBEAT_INTERVAL_S,
            "state": DeviceState.ACTIVE.value,
            "credential_ref": f"mqtt:{serial}",
            "installed_at": installed,
        }

    def _devices(self) -> None:
        rng = self.rng
        households = self.data.household
        residents_by_household: dict[int, list[Row]] = {}
        for resident in self.data.resident:
            residents_by_household.setdefault(resident["household_id"], []).append(resident)
        # Fall detectors: ≈10% of households, most of them where someone is disabled or 80+.
        eligible = [h["id"] for h in households if any(map(_needs_fall_detector, residents_by_household[h["id"]]))]
        others = [h["id"] for h in households if not any(map(_needs_fall_detector, residents_by_household[h["id"]]))]
        n_fall = round(FALL_DETECTOR_SHARE * len(households))
        from_eligible = min(len(eligible), round(0.85 * n_fall))
        fall = set(rng.sample(eligible, from_eligible))
        fall |= set(rng.sample(others, min(len(others), n_fall - from_eligible)))
        sensors = {
            kind: set(rng.sample(range(1, len(households) + 1), round(share * len(households))))
            for kind, share in HOME_SENSOR_SHARES
        }
        for household in households:
            hid = household["id"]
            members = residents_by_household[hid]
            installed = household["enrolled_at"] + timedelta(days=rng.randint(1, 14), minutes=rng.randrange(600))
            self.data.device.append(
                self._device_row(DeviceKind.HOME_ALARM_UNIT, installed, household_id=hid, resident_id=members[0]["id"])
            )
            if hid in fall:
                wearer = next((r for r in members if _needs_fall_detector(r)), members[0])
                self.data.device.append(
                    self._device_row(DeviceKind.FALL_DETECTOR, installed, household_id=hid, resident_id=wearer["id"])
                )
            for kind, _ in HOME_SENSOR_SHARES:
                if hid in sensors[kind]:
                    self.data.device.append(self._device_row(kind, installed, household_id=hid))
        for center in self.data.care_center:
            installed = self.past_time(720, 30)
            for kind, count in CARE_CENTER_DEVICES:
                for _ in range(count):
                    self.data.device.append(self._device_row(kind, installed, care_center_id=center["id"]))
        # The spare: a home alarm unit on the first care center's shelf (备用机) that no simulator plays, for
        # a person to press by hand. Last, so every other device keeps its id; no random draw, so the rest
        # of the data set is the same as without it.
        models, firmwares = DEVICE_MODELS[DeviceKind.HOME_ALARM_UNIT]
        self.data.device.append(
            {
                "id": len(self.data.device) + 1,
                "serial": DEMO_SPARE_DEVICE_SERIAL,
                "kind": DeviceKind.HOME_ALARM_UNIT.value,
                "model": models[0],
                "firmware": firmwares[-1],
                "household_id": None,
                "care_center_id": self.data.care_center[0]["id"],
                "institution_id": None,
                "resident_id": None,
                "heartbeat_interval_s": HEARTBEAT_INTERVAL_S,
                "state": DeviceState.ACTIVE.value,
                "credential_ref": f"mqtt:{DEMO_SPARE_DEVICE_SERIAL}",
                "installed_at": self.data.device[-1]["installed_at"],
            }
        )
        # Broker credentials: the demo password is derived from the serial; salts from the seed.
        salt_rng = random.Random(f"{self.seed}:device-credential-salt")
        salts = [salt_rng.randbytes(SALT_BYTES) for _ in self.data.device]
        hashes = _device_password_hashes([device["serial"] for device in self.data.device], salts)
        for device, password_hash in zip(self.data.device, hashes, strict=True):
            self.data.device_credential.append(
                {
                    "id": device["id"],
                    "device_id": device["id"],
                    "username": device["serial"],
                    "password_hash": password_hash,
                    "created_at": device["installed_at"],
                    "revoked_at": None,
                }
            )

    def _staff_row(
        self,
        role: StaffRole,
        home_area_id: int,
        skills: Sequence[Skill],
        certifications: list[dict[str, Any]] | None = None,
        *,
        care_center_id: int | None = None,
        institution_id: int | None = None,
        gender: Gender | None = None,
    ) -> Row:
        row = {
            "id": len(self.data.staff) + 1,
            "name": self.faker_name(gender or self.gender(0.6)),
            "phone": self.mobile(),
            "role": role.value,
            "skills": [s.value for s in Skill if s in skills],
            "home_area_id": home_area_id,
            "care_center_id": care_center_id,
            "institution_id": institution_id,
            "active": True,
        }
        self.data.staff.append(row)
        for certificate in certifications or []:
            self.data.staff_certification.append(
                {"id": len(self.data.staff_certification) + 1, "staff_id": row["id"], **certificate}
            )
        return row

    def _certificate(self, name: str, level: str, years_valid: int) -> dict[str, Any]:
        rng = self.rng
        issued = self.start - timedelta(days=rng.randint(30, 365 * (years_valid - 1)))
        expires = _years_before(issued, -years_valid)
        return {
            "name": name,
            "level": level,
            "number": f"{DISTRICT[1][:4]}{issued.year}{rng.randrange(10**8):08d}",
            "issued_on": issued.isoformat(),
            "expires_on": expires.isoformat(),
        }

    def _staff(self) -> None:
        rng = self.rng
        district_id = self.district["id"]
        centers = self.data.care_center
        for _ in range(OPERATORS):
            self._staff_row(StaffRole.OPERATOR, district_id, [Skill.PSYCHOLOGICAL_COMFORT])
        n_caregivers = max(10, round(self.n / 100))
        for _ in range(n_caregivers):
            community = rng.choice(self.communities)
            skills = rng.sample(CAREGIVER_SKILLS, rng.randint(3, 6))
            certs = []
            if rng.random() < 0.70:
                level = rng.choices(CERT_LEVEL_NAMES, weights=CERT_LEVEL_WEIGHTS)[0]
                certs.append(self._certificate(CAREGIVER_CERT, level, 5))
                if rng.random() < 0.15:
                    certs.append(self._certificate("红十字救护员证", "救护员", 3))
            center = rng.choice(centers)["id"] if rng.random() < 0.3 else None
            self._staff_row(StaffRole.CAREGIVER, community["id"], skills, certs, care_center_id=center)
        for center in centers:
            for _ in range(2):
                self._staff_row(
                    StaffRole.NURSE,
                    center["area_id"],
                    [Skill.NURSING, Skill.MEDICAL_ESCORT, Skill.REHABILITATION],
                    [self._certificate("护士执业证书", "护士", 5)],
                    care_center_id=center["id"],
                    gender=Gender.FEMALE,
                )
        for institution in self.data.institution:
            self._staff_row(
                StaffRole.NURSE,
                institution["area_id"],
                [Skill.NURSING, Skill.REHABILITATION],
                [self._certificate("护士执业证书", "主管护师", 5)],
                institution_id=institution["id"],
            )
        for street in self.streets:
            communities = [c for c in self.communities if c["parent_id"] == street["id"]]
            for _ in range(2):
                certs = []
                if rng.random() < 0.8:
                    level = "助理社会工作师" if rng.random() < 0.7 else "社会工作师"
                    certs.append(self._certificate("社会工作者职业水平证书", level, 10))
                self._staff_row(
                    StaffRole.SOCIAL_WORKER,
                    rng.choice(communities)["id"],
                    [Skill.VISIT, Skill.PSYCHOLOGICAL_COMFORT, Skill.ERRANDS],
                    certs,
                )
        for community in self.communities:
            self._staff_row(StaffRole.COORDINATOR, community["id"], [Skill.ERRANDS, Skill.VISIT, Skill.SHOPPING])
        for _ in range(max(5, len(self.streets))):
            skills = rng.sample(
                (
                    Skill.VISIT,
                    Skill.SHOPPING,
                    Skill.MEAL_DELIVERY,
                    Skill.PSYCHOLOGICAL_COMFORT,
                    Skill.DEVICE_MAINTENANCE,
                ),
                2,
            )
            self._staff_row(StaffRole.VOLUNTEER, rng.choice(self.communities)["id"], skills)

    def demo_coordinator(self) -> Row:
        """The community coordinator's staff record of the community with the most caregivers (then residents)."""
        staff = self.data.staff
        caregivers = Counter(s["home_area_id"] for s in staff if s["role"] == StaffRole.CAREGIVER.value)
        household_area = {h["id"]: h["area_id"] for h in self.data.household}
        residents = Counter(household_area[r["household_id"]] for r in self.data.resident)
        community = max(self.communities, key=lambda c: (caregivers[c["id"]], residents[c["id"]], -c["id"]))
        return next(
            s for s in staff if s["role"] == StaffRole.COORDINATOR.value and s["home_area_id"] == community["id"]
        )

    def _users(self) -> None:
        staff = self.data.staff
        operators = [s for s in staff if s["role"] == StaffRole.OPERATOR.value]
        caregiver = next(s for s in staff if s["role"] == StaffRole.CAREGIVER.value)
        first_street = self.streets[0]
        first_institution = self.data.institution[0]
        coordinator = self.demo_coordinator()
        specs: dict[str, tuple[str, int | None, int | None, int | None]] = {
            # username: (full name, scope_area_id, scope_institution_id, staff_id)
            "admin": ("平台管理员", None, None, None),
            "operator1": (operators[0]["name"], None, None, operators[0]["id"]),
            "operator2": (operators[1]["name"], None, None, operators[1]["id"]),
            "supervisor_district": (self.faker_name(self.gender()), self.district["id"], None, None),
            "supervisor_street": (self.faker_name(self.gender()), first_street["id"], None, None),
            "supervisor_home": (self.faker_name(self.gender()), None, first_institution["id"], None),
            "caregiver1": (caregiver["name"], None, None, caregiver["id"]),
            "coordinator1": (coordinator["name"], coordinator["home_area_id"], None, coordinator["id"]),
        }
        rows = [(username, role, *specs[username]) for username, role, _ in DEMO_USERS]
        caregivers = sorted((s for s in staff if s["role"] == StaffRole.CAREGIVER.value), key=lambda s: s["id"])
        rows += [
            (CAREGIVER_USERNAME.format(number=number), Role.CAREGIVER.value, member["name"], None, None, member["id"])
            for number, member in enumerate(caregivers[1:], start=2)
        ]
        # The named users have a salt each; the caregiver team shares one (one Argon2 computation for hundreds of
        # accounts: Argon2 is slow on purpose, ~0.1 s a hash, and the demo password is public anyway).
        team_salt = hashlib.sha256(f"{self.seed}:caregiver-team".encode()).digest()[:16]
        for uid, (username, role, full_name, scope_area, scope_institution, staff_id) in enumerate(rows, start=1):
            named = uid <= len(DEMO_USERS)
            salt = hashlib.sha256(f"{self.seed}:{username}".encode()).digest()[:16] if named else team_salt
            self.data.app_user.append(
                {
                    "id": uid,
                    "username": username,
                    "full_name": full_name,
                    "role": role,
                    "scope_area_id": scope_area,
                    "scope_institution_id": scope_institution,
                    "staff_id": staff_id,
                    "locale": "zh-CN",
                    "active": True,
                    "password_hash": _argon2_hash(DEMO_PASSWORD, salt),
                    "created_at": self.ref - timedelta(days=30),
                    "last_login_at": None,
                }
            )


def _needs_fall_detector(resident: Row) -> bool:
    """Disabled or 80+ residents get fall detectors first."""
    cats = resident["categories"]
    return ResidentCategory.DISABLED.value in cats or ResidentCategory.ADVANCED_AGE.value in cats


def _years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (negative: later); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _bisect(cumulative: Sequence[float], x: float) -> int:
    """Index of the first cumulative weight above x."""
    for i, c in enumerate(cumulative):
        if x < c:
            return i
    return len(cumulative) - 1
