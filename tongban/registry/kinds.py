"""One declarative description per registry kind.

Templates, import, export, the admin's columns, the workbench pages and the lookup
endpoint are all generated from these descriptions: adding a registry is adding a `Kind`
here and a model in `tongban/store/models/registry.py` whose field names are the column
keys (a test checks that the two agree).

A column's `key` is the model field it fills; its `header` is the Chinese column title in
the spreadsheet. Types reuse the engine's validators (`tongban.engine.validators`):

| type     | cell holds                                  | stored as                      |
|----------|---------------------------------------------|--------------------------------|
| text     | any text                                    | str (≤ max_length)             |
| id_card  | 18-digit resident ID number (GB 11643)      | str, check digit verified      |
| uscc     | unified social credit code (GB 32100)       | str, check digit verified      |
| plate    | vehicle plate (GA 36)                       | str without separators         |
| phone    | mobile or landline                          | str                            |
| licence  | driving licence classes (准驾车型), e.g. A2D | str                           |
| int      | whole number within [minimum, maximum]      | int                            |
| bool     | 是 / 否                                     | bool                           |
| choice   | one of `choices`                            | str                            |
| multi    | several of `choices` (any words if empty)   | str joined by "、"             |
| lat, lng | decimal degrees; WGS84 or GCJ-02 on import  | float, WGS84                   |
| org      | code or name of a community or grid         | the org (FK) and its j_ columns|
"""

from __future__ import annotations

from dataclasses import dataclass, field

ORG = "org"  # the key of every kind's organisation column
TAG_SEPARATOR = "、"
PERSONAL_TYPES = frozenset({"id_card", "phone"})  # masked in lists, exports and lookups


@dataclass(frozen=True)
class Column:
    """One spreadsheet column and the model field it fills."""

    key: str
    header: str
    type: str = "text"
    required: bool = False
    max_length: int = 100
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = 10_000_000
    health: bool = False  # visible and writable only by roles with sees_health
    help: str = ""

    @property
    def personal(self) -> bool:
        """Masked wherever listed; revealed one value at a time, each reveal logged."""
        return self.type in PERSONAL_TYPES

    @property
    def is_multi(self) -> bool:
        return self.type == "multi"


@dataclass(frozen=True)
class Kind:
    """A registry: its columns, natural key and how it is shown."""

    name: str  # URL and CLI name; also the RevealLog subject prefix ("person:42")
    label: str
    model: str  # model class name in tongban.store.models
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]  # column keys; re-importing the same key updates the row
    title: tuple[str, ...]  # columns that name a record in lists and lookups
    search: tuple[str, ...]  # columns the search box looks in
    listed: tuple[str, ...]  # columns of the list page (besides the org)
    filters: tuple[str, ...] = ()  # choice/multi/bool columns offered as list filters
    geo: tuple[str, str] | None = None  # (lat, lng) column keys, checked as a pair
    note: str = ""  # shown on the template's instructions sheet
    by_key: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {c.key: c for c in self.columns})

    def column(self, key: str) -> Column:
        return self.by_key[key]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def personal(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.personal)

    @property
    def health(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.health)

    @property
    def key_headers(self) -> str:
        return "、".join(self.column(k).header for k in self.natural_key)


ORG_COLUMN = Column(
    ORG,
    "所属网格/社区",
    "org",
    required=True,
    help="填写网格或社区的代码或名称，如 32050710300101 或 湘城社区第一网格",
)
NOTE = Column("note", "备注", max_length=500)

PERSON_TAGS = (
    "党员",
    "志愿者",
    "残障",
    "独居老人",
    "高龄老人",
    "孕产妇",
    "低保",
    "退役军人",
    "留守儿童",
)
HEALTH_TAGS = ("透析", "肿瘤", "糖尿病", "高血压", "精神障碍", "慢阻肺", "长期卧床")
PLACE_TYPES = (
    "核酸采样点",
    "骑手驿站",
    "爱心补给点",
    "隔离点",
    "充电点",
    "摊贩疏导点",
    "党群服务中心",
)
AMENITIES = (
    "充电",
    "饮水",
    "热食",
    "微波炉",
    "药箱",
    "书架",
    "卫生间",
    "休息座椅",
    "空调",
    "无线网络",
)
ENTERPRISE_TYPES = ("企业", "个体工商户", "农民专业合作社", "社会组织", "其他")
RIDER_JOBS = ("快递员", "外卖骑手", "网约车司机")
AVAILABILITY = ("工作日白天", "工作日晚上", "周末", "节假日", "随时")

PERSON = Kind(
    name="person",
    label="人员",
    model="Person",
    columns=(
        Column("name", "姓名", required=True, max_length=50),
        Column("id_number", "身份证号码", "id_card", required=True),
        Column("phone", "联系电话", "phone"),
        Column("address", "居住地址", max_length=200),
        ORG_COLUMN,
        Column(
            "tags",
            "人员标签",
            "multi",
            choices=PERSON_TAGS,
            max_length=200,
            help="可填多个，用顿号分隔，如 党员、志愿者",
        ),
        Column(
            "health_tags",
            "健康标签",
            "multi",
            choices=HEALTH_TAGS,
            max_length=200,
            health=True,
            help="仅卫健工作人员可填写和查看",
        ),
        NOTE,
    ),
    natural_key=("id_number",),
    title=("name", "id_number"),
    search=("name", "id_number", "phone", "address"),
    listed=("name", "id_number", "phone", "address", "tags", "health_tags"),
    filters=("tags", "health_tags"),
)

ENTERPRISE = Kind(
    name="enterprise",
    label="企业和个体工商户",
    model="Enterprise",
    columns=(
        Column("name", "名称", required=True, max_length=200),
        Column("credit_code", "统一社会信用代码", "uscc", required=True),
        Column("category", "主体类型", "choice", required=True, choices=ENTERPRISE_TYPES),
        Column("industry", "行业", max_length=100),
        Column("address", "经营地址", max_length=200),
        Column("legal_person", "法定代表人/经营者", max_length=50),
        Column("phone", "联系电话", "phone"),
        Column("employees", "从业人数", "int", maximum=1_000_000),
        ORG_COLUMN,
        NOTE,
    ),
    natural_key=("credit_code",),
    title=("name", "credit_code"),
    search=("name", "credit_code", "legal_person", "address", "industry"),
    listed=("name", "credit_code", "category", "industry", "employees", "phone"),
    filters=("category",),
)

VEHICLE = Kind(
    name="vehicle",
    label="车辆",
    model="Vehicle",
    columns=(
        Column("plate", "车牌号码", "plate", required=True),
        Column("vehicle_type", "车辆类型", max_length=30, help="如 重型货车、冷藏车、小型客车"),
        Column("owner", "所有人", required=True, max_length=200),
        Column("owner_code", "所属企业信用代码", "uscc"),
        Column("phone", "联系电话", "phone"),
        ORG_COLUMN,
        NOTE,
    ),
    natural_key=("plate",),
    title=("plate", "owner"),
    search=("plate", "owner", "owner_code", "vehicle_type"),
    listed=("plate", "vehicle_type", "owner", "phone"),
)

DRIVER = Kind(
    name="driver",
    label="驾驶员",
    model="Driver",
    columns=(
        Column("name", "姓名", required=True, max_length=50),
        Column("id_number", "身份证号码", "id_card", required=True),
        Column("phone", "联系电话", "phone"),
        Column("licence", "准驾车型", "licence", help="如 A2、B2、C1，多个连写如 A2D"),
        Column("plate", "常驾车辆", "plate"),
        Column("employer", "所属单位", max_length=200),
        ORG_COLUMN,
        NOTE,
    ),
    natural_key=("id_number",),
    title=("name", "id_number"),
    search=("name", "id_number", "phone", "plate", "employer"),
    listed=("name", "id_number", "phone", "licence", "plate", "employer"),
)

RIDER = Kind(
    name="rider",
    label="快递员和网约车司机",
    model="Rider",
    columns=(
        Column("name", "姓名", required=True, max_length=50),
        Column("id_number", "身份证号码", "id_card", required=True),
        Column("phone", "联系电话", "phone"),
        Column("job", "从业类型", "choice", required=True, choices=RIDER_JOBS),
        Column("platform", "平台", max_length=50, help="如 顺丰、美团、滴滴出行"),
        Column("station", "站点", max_length=100),
        Column("party_member", "是否党员", "bool"),
        ORG_COLUMN,
        NOTE,
    ),
    natural_key=("id_number",),
    title=("name", "id_number"),
    search=("name", "id_number", "phone", "platform", "station"),
    listed=("name", "id_number", "phone", "job", "platform", "station", "party_member"),
    filters=("job", "party_member"),
)

PLACE = Kind(
    name="place",
    label="场所设施",
    model="Place",
    columns=(
        Column("name", "名称", required=True, max_length=100),
        Column("place_type", "类型", "choice", required=True, choices=PLACE_TYPES),
        Column("address", "地址", max_length=200),
        Column("lat", "纬度", "lat", help="十进制度数，如 31.4386"),
        Column("lng", "经度", "lng", help="十进制度数，如 120.7124"),
        Column("capacity", "容纳人数", "int", maximum=1_000_000),
        Column("amenities", "服务设施", "multi", choices=AMENITIES, max_length=200),
        Column("opening_hours", "开放时间", max_length=100, help="如 每天 8:00-20:00"),
        Column("phone", "联系电话", "phone"),
        ORG_COLUMN,
        NOTE,
    ),
    natural_key=(ORG, "place_type", "name"),
    title=("name", "place_type"),
    search=("name", "address"),
    listed=("name", "place_type", "address", "capacity", "amenities", "opening_hours"),
    filters=("place_type", "amenities"),
    geo=("lat", "lng"),
    note="同一网格/社区内，类型和名称相同的场所视为同一处，重复导入会更新而不会新增。",
)

VOLUNTEER = Kind(
    name="volunteer",
    label="志愿者",
    model="Volunteer",
    columns=(
        Column("name", "姓名", required=True, max_length=50),
        Column("id_number", "身份证号码", "id_card", required=True),
        Column("phone", "联系电话", "phone", required=True),
        Column(
            "skills", "技能", "multi", max_length=200, help="可填多个，用顿号分隔，如 驾驶、医护"
        ),
        Column("availability", "可服务时间", "multi", choices=AVAILABILITY, max_length=100),
        Column("home_address", "居住地址", max_length=200),
        Column("home_lat", "居住地纬度", "lat"),
        Column("home_lng", "居住地经度", "lng"),
        ORG_COLUMN,
        NOTE,
    ),
    natural_key=("id_number",),
    title=("name", "id_number"),
    search=("name", "id_number", "phone", "skills", "home_address"),
    listed=("name", "id_number", "phone", "skills", "availability"),
    filters=("availability",),
    geo=("home_lat", "home_lng"),
)

KINDS: dict[str, Kind] = {
    k.name: k for k in (PERSON, ENTERPRISE, VEHICLE, DRIVER, RIDER, PLACE, VOLUNTEER)
}


def get(name: str) -> Kind | None:
    return KINDS.get(name)
