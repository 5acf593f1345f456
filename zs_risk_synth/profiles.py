"""What the synthetic Zhongshan is made of: towns, industries and clusters, entity types, vocabularies.

Numbers here are shapes, not facts: relative weights and risk effects chosen so that the generated city
looks like Zhongshan (domain.md §4): service trades everywhere, lighting in 古镇/横栏/小榄, appliances in
南头/东凤/黄圃, hardware and locks in 小榄, redwood furniture in 大涌/板芙, garments in 沙溪/大涌, amusement
machines in 港口, electronics and pharma in the Torch zone (中山港). Levels are calibrated in population.py.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from zs_risk_pipeline.lib.ingest.contract import REFERENCE_DIR  # the city uses the pipeline's reference lists


def _read_csv(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- towns --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    code: str
    name_zh: str
    key: str  # pinyin, used below to attach clusters
    weight: float  # share of the city's market entities (relative)
    place: str  # how individual businesses' names spell the place (中山市小榄镇阿强五金店)
    short: str  # short form inside enterprise names (中山市古镇明辉灯饰有限公司); "" for city streets
    hub: float  # relative number of business centres (一址多照) in the town
    branch_name: str  # the market-regulation branch (分局) of the town


# weight: relative entity counts (urban streets, 古镇/小榄 large; 神湾/五桂山 small);
# place/short: how names spell the place; hub: relative number of business centres.
_TOWN_SHAPE = {
    "Shiqi": (8.5, "石岐区", "", 3.0),
    "Dongqu": (8.0, "东区", "", 4.0),
    "Zhongshangang": (8.5, "火炬开发区", "火炬", 4.0),
    "Xiqu": (5.5, "西区", "", 2.0),
    "Nanqu": (3.0, "南区", "", 1.0),
    "Wuguishan": (1.0, "五桂山", "", 0.0),
    "Minzhong": (2.5, "民众街道", "民众", 0.3),
    "Nanlang": (2.8, "南朗街道", "南朗", 0.5),
    "Huangpu": (3.8, "黄圃镇", "黄圃", 0.3),
    "Dongfeng": (4.8, "东凤镇", "东凤", 0.3),
    "Guzhen": (8.5, "古镇镇", "古镇", 1.0),
    "Shaxi": (4.8, "沙溪镇", "沙溪", 0.3),
    "Tanzhou": (6.0, "坦洲镇", "坦洲", 0.5),
    "Gangkou": (3.8, "港口镇", "港口", 0.3),
    "Sanjiao": (2.8, "三角镇", "三角", 0.2),
    "Henglan": (4.3, "横栏镇", "横栏", 0.2),
    "Nantou": (3.2, "南头镇", "南头", 0.2),
    "Fusha": (1.8, "阜沙镇", "阜沙", 0.1),
    "Sanxiang": (5.8, "三乡镇", "三乡", 0.5),
    "Banfu": (1.8, "板芙镇", "板芙", 0.1),
    "Dachong": (2.2, "大涌镇", "大涌", 0.1),
    "Shenwan": (0.8, "神湾镇", "神湾", 0.0),
    "Xiaolan": (11.5, "小榄镇", "小榄", 1.5),
}
URBAN = ("Shiqi", "Dongqu", "Xiqu", "Nanqu")


@lru_cache(maxsize=1)
def towns() -> tuple[Town, ...]:
    out = []
    for row in _read_csv("towns.csv"):
        key = row["name_pinyin"]
        w, place, short, hub = _TOWN_SHAPE[key]
        out.append(Town(row["town_code"], row["name_zh"], key, w, place, short, hub, row["branch_name_zh"]))
    return tuple(out)


def town_index(key: str) -> int:
    return next(i for i, t in enumerate(towns()) if t.key == key)


# --- entity types ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityType:
    name: str
    share: float  # of all registered market entities
    category: str  # USCC position 2 under registration authority 9
    risk: float  # additive effect on the latent risk (logit scale)
    capital_median: float  # registered capital, 万元; 0 = usually not recorded
    capital_missing: float  # share with no registered capital recorded


# Zhongshan end of 2024: 689,700 entities, 40.91 % enterprises (domain.md §4.2).
ENTITY_TYPES: tuple[EntityType, ...] = (
    EntityType("有限责任公司", 0.334, "1", 0.0, 100.0, 0.0),
    EntityType("股份有限公司", 0.004, "1", -0.6, 5000.0, 0.0),
    EntityType("个人独资企业", 0.025, "1", 0.3, 10.0, 0.4),
    EntityType("合伙企业", 0.010, "1", 0.2, 300.0, 0.05),
    EntityType("外商投资企业", 0.012, "1", -0.4, 800.0, 0.0),
    EntityType("农民专业合作社", 0.005, "3", 0.5, 50.0, 0.1),
    EntityType("个体工商户", 0.575, "2", 0.05, 5.0, 0.85),
    EntityType("分支机构", 0.035, "1", 0.1, 0.0, 1.0),
)
LLC, JOINT_STOCK, SOLE, PARTNERSHIP, FOREIGN, COOP, INDIVIDUAL, BRANCH = range(8)
ENTERPRISE_TYPES = (LLC, JOINT_STOCK, SOLE, PARTNERSHIP, FOREIGN, BRANCH)

# Registry status vocabulary (contract enum) and the codes used internally.
STATUS = ("存续", "在业", "注销", "吊销", "迁出", "撤销")
ACTIVE, OPERATING, DEREGISTERED, REVOKED, MOVED_OUT, WITHDRAWN = range(6)


# --- licence domains -------------------------------------------------------------------------------------

DOMAINS = ("food", "special_equipment", "industrial_product", "drug", "medical_device", "cosmetics", "other")
FOOD, SPECIAL_EQUIPMENT, INDUSTRIAL_PRODUCT, DRUG, MEDICAL_DEVICE, COSMETICS, OTHER = range(7)
QUALIFICATIONS = ("general", *DOMAINS)  # inspector qualification words, canonical order


# --- industries -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Industry:
    code: str
    name_zh: str
    section: str
    w_ind: float  # relative weight among individual businesses (个体工商户)
    w_ent: float  # relative weight among enterprises
    risk: float  # additive latent-risk effect
    domain: int  # licence domain index or -1
    p_licence: float  # share of entities of the class holding a licence of that domain
    complaints: str  # complaint profile (see COMPLAINT_PROFILES)
    complaint_rate: float  # relative complaint intensity
    ent_words: tuple[str, ...]
    ind_words: tuple[str, ...]


# code, w_ind, w_ent, risk, licence domain, p_licence, complaint profile, complaint rate,
# then enterprise name words and shop-sign words of individual businesses (space-separated)
_INDUSTRY_SHAPE = [
    ("A0143", 0.8, 0.3, 0.0, -1, 0, "goods", 0.2, "花卉 园艺 苗木", "花场 苗圃场 花卉场"),
    ("A0412", 0.8, 0.2, 0.0, -1, 0, "food", 0.2, "水产养殖 渔业", "鱼塘 养殖场"),
    ("C1353", 0.3, 0.3, 0.2, FOOD, 0.9, "food", 1.0, "食品 腊味食品 肉制品", "腊味加工场 腊味厂"),
    ("C1411", 0.5, 0.3, 0.2, FOOD, 0.9, "food", 1.2, "食品 饼业 烘焙食品", "饼家 饼店"),
    ("C1492", 0.02, 0.3, 0.3, FOOD, 0.9, "food", 1.5, "生物科技 保健食品 健康科技", "保健品加工场"),
    ("C1811", 0.3, 0.6, 0.1, -1, 0, "goods", 0.4, "服装 制衣 服饰", "制衣厂 服装加工场"),
    ("C1819", 0.6, 1.0, 0.1, -1, 0, "goods", 0.4, "服装 制衣 服饰 牛仔服饰", "制衣厂 车缝加工场"),
    ("C1821", 0.4, 0.6, 0.1, -1, 0, "goods", 0.4, "服饰 针织 制衣", "针织厂 制衣厂"),
    ("C1829", 0.3, 0.4, 0.1, -1, 0, "goods", 0.4, "针织 服装", "针织加工场"),
    ("C1830", 0.2, 0.3, 0.1, -1, 0, "goods", 0.4, "服饰 服装辅料", "服饰加工场"),
    ("C2110", 0.5, 0.8, 0.1, -1, 0, "goods", 0.8, "红木家具 家具 红木 古典家具", "红木家具厂 家具厂 木器厂"),
    ("C2190", 0.2, 0.3, 0.1, -1, 0, "goods", 0.6, "家具 家居用品", "家具厂"),
    ("C2319", 0.2, 0.5, 0.1, INDUSTRIAL_PRODUCT, 0.15, "goods", 0.3, "印刷 包装印刷 彩印", "印刷厂 彩印店"),
    ("C2462", 0.1, 0.4, 0.3, -1, 0, "goods", 0.6, "游艺设备 动漫科技 游戏科技 游乐设备", "游艺机加工场 游戏机厂"),
    ("C2682", 0.01, 0.25, 0.2, COSMETICS, 0.8, "goods", 1.2, "化妆品 日化 生物科技", "日化厂"),
    ("C2720", 0.0, 0.06, -0.3, DRUG, 1.0, "drug", 0.5, "药业 制药 医药科技", ""),
    ("C2740", 0.0, 0.05, -0.3, DRUG, 1.0, "drug", 0.5, "药业 制药 中药", ""),
    ("C2770", 0.0, 0.08, 0.0, MEDICAL_DEVICE, 0.8, "drug", 0.5, "医疗用品 卫生用品 医用材料", ""),
    ("C2929", 0.3, 0.9, 0.1, INDUSTRIAL_PRODUCT, 0.1, "goods", 0.3, "塑料制品 塑胶 塑胶制品", "塑料厂 塑胶加工场"),
    ("C3351", 0.6, 1.0, 0.1, -1, 0, "goods", 0.5, "五金 锁业 五金制品 智能锁", "五金厂 锁具加工场 五金加工场"),
    ("C3352", 0.3, 0.5, 0.1, -1, 0, "goods", 0.5, "卫浴 五金 水暖器材", "五金厂 水暖配件厂"),
    ("C3360", 0.1, 0.3, 0.3, -1, 0, "goods", 0.3, "金属表面处理 电镀 表面处理", "喷涂加工场 抛光加工场"),
    ("C3389", 0.4, 0.6, 0.1, -1, 0, "goods", 0.4, "五金制品 金属制品 不锈钢制品", "五金厂 不锈钢加工场"),
    ("C3525", 0.3, 0.5, 0.0, -1, 0, "goods", 0.2, "模具 精密模具", "模具厂 模具加工场"),
    ("C3581", 0.0, 0.1, 0.0, MEDICAL_DEVICE, 0.9, "drug", 0.5, "医疗器械 医疗科技", ""),
    ("C3831", 0.02, 0.15, 0.1, INDUSTRIAL_PRODUCT, 0.5, "goods", 0.5, "电线电缆 线缆", "电线加工场"),
    ("C3852", 0.02, 0.15, 0.0, -1, 0, "goods", 1.0, "电器 空调设备 制冷设备", "电器加工场"),
    ("C3853", 0.1, 0.4, 0.1, -1, 0, "goods", 0.8, "电器 电风扇 家用电器", "电器加工场 风扇配件厂"),
    ("C3854", 0.2, 0.8, 0.1, -1, 0, "goods", 0.8, "电器 厨房电器 厨卫电器 家电", "电器加工场 电器配件厂"),
    ("C3855", 0.05, 0.3, 0.1, -1, 0, "goods", 0.8, "电器 家用电器 热水器", "电器加工场"),
    ("C3859", 0.15, 0.5, 0.1, -1, 0, "goods", 0.8, "电器 家电 小家电 电器科技", "电器加工场 电器配件厂"),
    ("C3861", 0.1, 0.5, 0.2, INDUSTRIAL_PRODUCT, 0.2, "goods", 0.8, "燃气具 厨具 燃气用具", "燃气具配件厂"),
    ("C3871", 0.1, 0.25, 0.2, -1, 0, "goods", 0.5, "光源 照明 光电", "灯泡加工场"),
    ("C3872", 0.9, 1.2, 0.25, -1, 0, "goods", 0.6, "灯饰 照明 照明科技 灯具", "灯饰厂 灯饰加工场 灯具厂"),
    ("C3873", 0.1, 0.2, 0.2, -1, 0, "goods", 0.5, "舞台灯光 演艺设备 灯光设备", "灯光设备厂"),
    ("C3874", 0.05, 0.2, 0.1, -1, 0, "goods", 0.5, "智能照明 照明科技 光电科技", "照明配件厂"),
    ("C3879", 0.5, 0.5, 0.25, -1, 0, "goods", 0.5, "灯饰配件 照明电器 灯饰", "灯饰配件厂 灯饰配件加工场"),
    ("C3922", 0.0, 0.2, -0.1, -1, 0, "goods", 0.4, "通讯 电子 通信设备", ""),
    ("C3975", 0.02, 0.25, 0.0, -1, 0, "goods", 0.3, "光电 光电科技 半导体照明", "光电加工场"),
    ("C3982", 0.01, 0.2, 0.0, -1, 0, "goods", 0.2, "电子 电路板 电子科技", "电子加工场"),
    ("E4710", 0.05, 0.8, 0.3, -1, 0, "housing", 1.0, "建筑工程 建设工程 建设", "泥水工程部"),
    ("E5011", 0.1, 1.0, 0.2, -1, 0, "service", 0.8, "装饰工程 建筑装饰 装饰设计工程", "装饰工程部"),
    ("E5012", 0.8, 1.0, 0.3, -1, 0, "service", 1.5, "装饰 家居装饰 装饰设计", "装饰工程部 装修工作室"),
    ("F5132", 1.0, 1.2, 0.1, -1, 0, "goods", 0.6, "服装 服饰贸易 制衣贸易", "服装批发部 服装商行"),
    ("F5136", 0.8, 1.5, 0.2, -1, 0, "goods", 0.6, "灯饰 灯饰贸易 照明电器 灯饰城", "灯饰商行 灯饰批发部"),
    ("F5138", 0.3, 0.8, 0.1, -1, 0, "goods", 0.8, "电器贸易 家电贸易", "电器批发部 电器商行"),
    ("F5174", 1.0, 1.5, 0.1, -1, 0, "goods", 0.5, "五金贸易 五金 五金机电", "五金商行 五金批发部"),
    ("F5179", 0.3, 1.5, 0.1, -1, 0, "goods", 0.5, "机电设备 机械设备 电子贸易", "机电商行 电子商行"),
    ("F5181", 0.05, 1.0, 0.3, -1, 0, "goods", 0.3, "进出口贸易 国际贸易 贸易", "贸易商行"),
    ("F5193", 0.3, 1.5, 0.3, -1, 0, "online", 1.5, "电子商务 网络科技 电商", "网店 电子商务商行"),
    ("F5199", 1.0, 3.0, 0.3, -1, 0, "goods", 0.5, "贸易 商贸 实业 贸易发展", "商行 经营部 贸易商行"),
    ("F5211", 3.0, 0.5, 0.1, FOOD, 0.5, "goods", 1.2, "百货 商业", "百货店 日用百货店 杂货店"),
    ("F5212", 1.5, 0.5, 0.1, FOOD, 0.95, "food", 1.5, "超市 商业连锁 超级市场", "超市 生活超市"),
    ("F5213", 4.0, 0.3, 0.1, FOOD, 0.9, "food", 1.0, "便利店 便利连锁", "士多店 便利店 小卖部"),
    ("F5221", 1.5, 0.2, 0.1, FOOD, 0.9, "food", 0.8, "粮油 粮油贸易", "粮油店 米铺"),
    ("F5224", 3.0, 0.2, 0.25, FOOD, 0.9, "food", 1.0, "生鲜 肉类食品", "猪肉档 水产档 鲜肉店 海鲜档"),
    ("F5232", 4.0, 0.5, 0.1, -1, 0, "goods", 1.0, "服饰 服装", "服装店 时装店 童装店"),
    ("F5234", 1.0, 0.3, 0.1, -1, 0, "goods", 1.2, "化妆品 日化", "化妆品店 日化店"),
    ("F5251", 0.6, 0.5, 0.0, DRUG, 1.0, "drug", 1.0, "大药房 医药连锁 药店", "药店 大药房"),
    ("F5272", 1.0, 0.3, 0.1, -1, 0, "goods", 1.5, "电器 家电", "电器店 家电商行"),
    ("F5281", 2.5, 0.4, 0.1, -1, 0, "goods", 0.6, "五金 建材五金", "五金店 五金建材店"),
    ("F5282", 1.0, 0.5, 0.1, -1, 0, "goods", 0.8, "灯饰 照明", "灯饰店 灯具店"),
    ("F5283", 0.8, 0.3, 0.1, -1, 0, "goods", 1.5, "家具 家居", "家具店 家私店"),
    ("F5292", 3.0, 1.2, 0.3, -1, 0, "online", 2.0, "电子商务 网络科技", "网店 电商工作室"),
    ("G5431", 1.5, 0.8, 0.2, -1, 0, "service", 0.4, "物流 运输 货运", "货运部 运输队 搬运部"),
    ("G5821", 0.1, 0.6, 0.1, -1, 0, "service", 0.4, "货运代理 国际货运代理 物流", "货运代理部"),
    ("G6020", 0.2, 0.3, 0.1, -1, 0, "service", 1.5, "快递 速递", "快递服务部 快递代收点"),
    ("H6210", 3.0, 0.7, 0.2, FOOD, 0.95, "food", 1.5, "餐饮 酒家 餐饮管理", "餐厅 酒家 饭店 农庄"),
    ("H6220", 3.0, 0.5, 0.2, FOOD, 0.95, "food", 1.5, "餐饮 快餐 餐饮管理", "快餐店 餐馆"),
    ("H6239", 1.5, 0.4, 0.15, FOOD, 0.9, "food", 1.2, "饮品 餐饮管理", "奶茶店 饮品店 甜品店"),
    ("H6291", 3.0, 0.2, 0.3, FOOD, 0.9, "food", 1.2, "小吃 餐饮", "粥粉面店 小食店 早餐店 肠粉店"),
    ("I6513", 0.1, 1.2, 0.0, -1, 0, "service", 0.3, "软件 信息科技 网络科技 软件开发", "软件工作室"),
    ("I6531", 0.05, 0.8, 0.0, -1, 0, "service", 0.3, "信息技术 智能科技 系统集成", "电脑工作室"),
    ("K7010", 0.0, 0.3, 0.2, -1, 0, "housing", 3.0, "房地产开发 置业 房地产", ""),
    ("K7020", 0.0, 0.4, 0.1, SPECIAL_EQUIPMENT, 0.6, "property", 2.0, "物业管理 物业服务", ""),
    ("K7030", 0.3, 0.5, 0.2, -1, 0, "housing", 2.0, "房地产经纪 房产中介 地产代理", "地产中介部 房产中介所"),
    ("L7212", 0.0, 0.8, 0.6, -1, 0, "service", 0.5, "投资 投资管理 资产管理 实业投资", ""),
    ("L7224", 0.0, 0.6, 0.3, -1, 0, "service", 0.3, "供应链管理 供应链", ""),
    ("L7259", 0.4, 0.8, 0.1, -1, 0, "service", 0.5, "广告 文化传播 广告设计", "广告部 广告设计部"),
    ("L7297", 0.3, 0.8, 0.3, -1, 0, "service", 0.6, "企业管理咨询 商务服务 财税咨询", "代理记账服务部 商务服务部"),
    ("L7299", 0.5, 1.5, 0.3, -1, 0, "service", 0.6, "商务服务 企业管理 文化发展", "商务服务部 服务部"),
    ("M7519", 0.2, 1.5, 0.1, -1, 0, "service", 0.3, "科技 技术 科技发展 新材料科技", "科技工作室"),
    ("O8040", 3.0, 0.5, 0.3, -1, 0, "prepaid", 2.0, "美容 美发 美容美发", "美发店 美容院 发型设计室 美甲店"),
    ("O8053", 1.0, 0.3, 0.4, -1, 0, "prepaid", 1.5, "健康管理 养生 养生馆", "养生馆 足浴店 推拿馆"),
    ("O8111", 1.5, 0.5, 0.2, -1, 0, "service", 1.5, "汽车维修 汽车服务 汽车修理", "汽车维修店 汽修厂 汽车美容店"),
    ("O8290", 1.5, 0.6, 0.1, -1, 0, "service", 0.8, "生活服务 家政服务", "服务部 家政服务部 维修部"),
    ("P8393", 0.1, 0.4, 0.4, OTHER, 0.3, "prepaid", 3.0, "文化艺术培训 教育科技 艺术培训", "培训中心 艺术工作室"),
    ("Q8425", 0.05, 0.1, 0.1, OTHER, 0.9, "drug", 1.5, "门诊部 医疗管理", "诊所"),
    ("R8930", 0.2, 0.3, 0.4, -1, 0, "prepaid", 3.0, "健身 体育发展 运动健身", "健身工作室"),
    ("R9012", 0.05, 0.05, 0.5, OTHER, 0.8, "service", 1.5, "游艺 娱乐", "游戏厅 游艺城"),
]


@lru_cache(maxsize=1)
def industries() -> tuple[Industry, ...]:
    """The generator's industry classes, in the order of reference/industries.csv."""
    shape = {s[0]: s for s in _INDUSTRY_SHAPE}
    rows = _read_csv("industries.csv")
    missing = set(shape) ^ {r["industry_code"] for r in rows}
    if missing:
        raise ValueError(f"industries.csv and the generator's profiles disagree on {sorted(missing)}")
    out = []
    for r in rows:
        code, w_ind, w_ent, risk, domain, p_lic, cprof, crate, ent, shop = shape[r["industry_code"]]
        ew, iw = tuple(ent.split()), tuple(shop.split())
        w_ind = w_ind if iw else 0.0  # no shop words: individual businesses never take this class
        out.append(Industry(code, r["name_zh"], r["section"], w_ind, w_ent, risk, domain, p_lic, cprof, crate, ew, iw))
    return tuple(out)


def industry_index(code: str) -> int:
    return next(i for i, ind in enumerate(industries()) if ind.code == code)


def codes_with_prefix(*prefixes: str) -> list[int]:
    return [i for i, ind in enumerate(industries()) if ind.code.startswith(prefixes)]


LIGHTING = ("C3871", "C3872", "C3873", "C3874", "C3879")

# Cluster boosts: multiply the class weight in these towns (and by `elsewhere` in all other towns).
CLUSTERS: tuple[tuple[tuple[str, ...], dict[str, float], float], ...] = (
    ((*LIGHTING, "F5136", "F5282"), {"Guzhen": 25, "Henglan": 8, "Xiaolan": 3}, 0.5),
    (("C3852", "C3853", "C3854", "C3855", "C3859", "F5138"), {"Nantou": 10, "Dongfeng": 10, "Huangpu": 6}, 0.6),
    (("C3861",), {"Xiaolan": 8, "Dongfeng": 6, "Nantou": 4, "Huangpu": 4}, 0.6),
    (("C3351", "C3352", "C3389", "C3360", "C3525", "F5174"), {"Xiaolan": 8}, 1.0),
    (("C2110", "C2190", "F5283"), {"Dachong": 15, "Banfu": 6, "Sanxiang": 2}, 0.8),
    (("C1811", "C1819", "C1821", "C1829", "C1830", "F5132"), {"Shaxi": 12, "Dachong": 5}, 0.7),
    (("C2462",), {"Gangkou": 30}, 0.5),
    (
        ("C3922", "C3975", "C3982", "C2720", "C2740", "C2770", "C3581", "C1492", "C2682", "I6513", "I6531", "M7519"),
        {"Zhongshangang": 6, "Minzhong": 1.5, "Nanlang": 2},
        1.0,
    ),
    (("C1353", "C1411"), {"Huangpu": 8}, 1.0),
    (("A0143",), {"Henglan": 8, "Minzhong": 3, "Sanjiao": 2, "Shiqi": 0.05, "Dongqu": 0.05, "Xiqu": 0.05}, 1.0),
    (
        ("A0412",),
        {
            "Minzhong": 4,
            "Tanzhou": 3,
            "Nanlang": 2,
            "Sanjiao": 3,
            "Shenwan": 3,
            "Fusha": 2,
            "Shiqi": 0.05,
            "Dongqu": 0.05,
            "Xiqu": 0.05,
            "Nanqu": 0.2,
        },
        1.0,
    ),
)
# Old city streets: little manufacturing, more services.
URBAN_SECTION_FACTOR = {
    "C": 0.25,
    "A": 0.3,
    "F": 1.2,
    "H": 1.4,
    "I": 1.5,
    "K": 1.5,
    "L": 1.5,
    "M": 1.4,
    "O": 1.4,
    "P": 1.5,
    "Q": 1.5,
    "R": 1.4,
}

# Entity-type × section multipliers on enterprise weights (who tends to be what).
TYPE_SECTION_FACTOR: dict[int, dict[str, float]] = {
    JOINT_STOCK: {"C": 2.5, "F": 0.5, "H": 0.2, "O": 0.2, "E": 1.5},
    SOLE: {"C": 1.3, "K": 0.1, "E": 0.5, "L": 0.6},
    PARTNERSHIP: {"C": 0.3, "F": 0.3, "H": 0.3, "O": 0.3, "E": 0.3},
    FOREIGN: {"C": 3.0, "F": 0.6, "H": 0.5, "E": 0.2, "O": 0.2, "K": 0.5},
    BRANCH: {"C": 0.4, "H": 2.0, "F": 1.5},
}
TYPE_CLASS_FACTOR: dict[int, dict[str, float]] = {
    JOINT_STOCK: {"L7212": 1.5},
    SOLE: {"L7212": 0.1},
    PARTNERSHIP: {"L7212": 12.0, "M7519": 2.0},
    BRANCH: {"F5212": 4.0, "F5213": 4.0, "F5251": 6.0, "K7020": 3.0, "L7212": 0.2},
}
COOP_CLASSES = {"A0143": ("花卉种植", "苗木种植"), "A0412": ("水产养殖", "渔业")}

# Industries whose entities cluster at business-centre addresses (集群注册) and their propensity.
HUB_PROPENSITY = {
    "L7212": 0.25,
    "L7224": 0.2,
    "L7297": 0.2,
    "L7299": 0.15,
    "F5193": 0.15,
    "F5199": 0.08,
    "F5181": 0.1,
    "M7519": 0.12,
    "I6513": 0.1,
    "I6531": 0.08,
    "L7259": 0.08,
    "F5292": 0.04,
}


# --- complaints and violations --------------------------------------------------------------------------

COMPLAINT_CATEGORIES = (
    "食品安全",
    "产品质量",
    "价格收费",
    "虚假宣传",
    "预付式消费",
    "合同纠纷",
    "售后服务",
    "计量问题",
    "网络购物",
    "服务质量",
    "药品医疗器械",
    "特种设备安全",
    "商品房",
)
# Probability over COMPLAINT_CATEGORIES per complaint profile.
COMPLAINT_PROFILES: dict[str, tuple[float, ...]] = {
    "food": (0.40, 0.05, 0.15, 0.05, 0.05, 0.02, 0.02, 0.10, 0.03, 0.13, 0.0, 0.0, 0.0),
    "goods": (0.02, 0.35, 0.15, 0.10, 0.02, 0.08, 0.18, 0.05, 0.05, 0.0, 0.0, 0.0, 0.0),
    "online": (0.03, 0.15, 0.08, 0.12, 0.02, 0.05, 0.15, 0.0, 0.40, 0.0, 0.0, 0.0, 0.0),
    "prepaid": (0.0, 0.02, 0.10, 0.08, 0.45, 0.15, 0.0, 0.0, 0.0, 0.20, 0.0, 0.0, 0.0),
    "service": (0.0, 0.05, 0.20, 0.08, 0.05, 0.25, 0.07, 0.0, 0.0, 0.30, 0.0, 0.0, 0.0),
    "drug": (0.0, 0.05, 0.20, 0.10, 0.0, 0.0, 0.0, 0.0, 0.05, 0.15, 0.45, 0.0, 0.0),
    "housing": (0.0, 0.10, 0.10, 0.15, 0.0, 0.30, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.30),
    "property": (0.0, 0.0, 0.30, 0.0, 0.05, 0.10, 0.0, 0.0, 0.0, 0.35, 0.0, 0.20, 0.0),
}
CHANNELS = ("12315", "12345", "来信", "来访")
CHANNEL_SHARE = (0.46, 0.44, 0.05, 0.05)
CHANNEL_PREFIX = ("TS", "ZS", "LX", "LF")  # work-order number prefixes, per channel

VIOLATIONS: dict[str, tuple[str, ...]] = {
    "food": (
        "经营不符合食品安全标准的食品",
        "未按规定履行进货查验义务",
        "食品经营场所卫生条件不符合要求",
        "超出许可范围经营食品",
    ),
    "product": ("生产销售不合格产品", "产品标识标注不规范", "以次充好", "未取得生产许可证生产列入目录产品"),
    "special_equipment": ("使用未经定期检验的特种设备", "特种设备作业人员未持证上岗"),
    "drug": ("销售劣药", "未凭处方销售处方药", "经营未取得注册证的医疗器械"),
    "cosmetics": ("生产不符合强制性国家标准的化妆品",),
    "general": (
        "虚假宣传",
        "价格违法",
        "侵犯注册商标专用权",
        "未按规定使用计量器具",
        "发布违法广告",
        "侵害消费者合法权益",
        "未按规定办理变更登记",
        "商业贿赂",
    ),
}
# Reason code on the serious illegal and dishonest list after a 严重 penalty of that violation family.
SERIOUS_REASON = {
    "food": "serious_food_safety",
    "product": "serious_product_quality",
    "special_equipment": "serious_special_equipment",
    "drug": "serious_drug_safety",
    "cosmetics": "serious_drug_safety",
    "general": "serious_market_order",
}


# --- inspection plans -----------------------------------------------------------------------------------

# Member units of the joint double-random mechanism (codes: pinyin initials of the bureau names).
DEPARTMENTS = ("SCJGJ", "YJGLJ", "WSJKJ", "WGLTJ", "XFJYZD", "GAJ", "STHJJ")
DEPARTMENT_SHARE = (0.85, 0.03, 0.025, 0.025, 0.025, 0.02, 0.025)


@dataclass(frozen=True)
class Plan:
    kind: str  # random / special
    prefix: str  # plan_id prefix, e.g. MR-GENERAL
    department: str
    domain: str  # qualification the inspectors need
    annual_rate: float  # share of the scope inspected per year (random) or in the campaign month (special)
    classes: tuple[str, ...] = ()  # industry-code prefixes in scope; () = every class
    licence_domain: int = -1  # scope = holders of this licence domain (instead of classes)
    months: tuple[int, ...] = ()  # calendar months in which the plan runs; () = every month
    towns: tuple[str, ...] = ()  # town keys; () = the whole city
    publicity: bool = False  # checks of publicly disclosed information (annual reports, registration)


PLANS: tuple[Plan, ...] = (
    Plan("random", "MR-GENERAL", "SCJGJ", "general", 0.025, publicity=True),
    Plan("random", "MR-FOOD", "SCJGJ", "food", 0.03, licence_domain=FOOD),
    Plan("random", "MR-PRODUCT", "SCJGJ", "industrial_product", 0.03, classes=("C",)),
    Plan("random", "MR-SPECEQ", "SCJGJ", "special_equipment", 0.08, licence_domain=SPECIAL_EQUIPMENT),
    Plan("random", "MR-DRUG", "SCJGJ", "drug", 0.10, classes=("F5251", "C27", "C3581", "C2682")),
    Plan("random", "JT-YJGLJ", "YJGLJ", "general", 0.01, classes=("C",), months=(3, 6, 9, 12)),
    Plan("random", "JT-WSJKJ", "WSJKJ", "general", 0.03, classes=("O8040", "O8053", "Q8425"), months=(3, 6, 9, 12)),
    Plan("random", "JT-WGLTJ", "WGLTJ", "general", 0.05, classes=("R9012", "R8930", "P8393"), months=(3, 6, 9, 12)),
    Plan("random", "JT-XFJYZD", "XFJYZD", "general", 0.005, classes=("H62", "F5212", "R"), months=(3, 6, 9, 12)),
    Plan("random", "JT-GAJ", "GAJ", "general", 0.01, classes=("G5431", "G6020", "O8111"), months=(3, 6, 9, 12)),
    Plan("random", "JT-STHJJ", "STHJJ", "general", 0.03, classes=("C3360", "C2319", "C2929"), months=(3, 6, 9, 12)),
    Plan(
        "special",
        "SP-LIGHTING",
        "SCJGJ",
        "industrial_product",
        0.06,
        classes=(*LIGHTING, "F5136", "F5282"),
        months=(6,),
        towns=("Guzhen", "Henglan", "Xiaolan"),
    ),
    Plan("special", "SP-FOOD", "SCJGJ", "food", 0.01, licence_domain=FOOD, months=(1, 9)),
    Plan("special", "SP-GAS", "SCJGJ", "industrial_product", 0.05, classes=("C3861", "F5281"), months=(10,)),
    Plan("special", "SP-PREPAID", "SCJGJ", "general", 0.06, classes=("O8040", "O8053", "R8930", "P8393"), months=(3,)),
    Plan("special", "SP-AMUSEMENT", "SCJGJ", "general", 0.10, classes=("C2462", "R9012"), months=(11,)),
    Plan("special", "SP-ELEVATOR", "SCJGJ", "special_equipment", 0.08, licence_domain=SPECIAL_EQUIPMENT, months=(5,)),
    Plan("special", "SP-PHARMACY", "SCJGJ", "drug", 0.06, classes=("F5251",), months=(4,)),
)
# Plan names as the 抽查计划 delivery shows them, after the year and month of the draw.
PLAN_NAMES: dict[str, str] = {
    "MR-GENERAL": "企业公示信息双随机抽查",
    "MR-FOOD": "食品经营双随机抽查",
    "MR-PRODUCT": "工业产品生产双随机抽查",
    "MR-SPECEQ": "特种设备双随机抽查",
    "MR-DRUG": "药品经营双随机抽查",
    "JT-YJGLJ": "安全生产部门联合双随机抽查",
    "JT-WSJKJ": "公共场所卫生部门联合双随机抽查",
    "JT-WGLTJ": "文化旅游部门联合双随机抽查",
    "JT-XFJYZD": "消防安全部门联合双随机抽查",
    "JT-GAJ": "治安管理部门联合双随机抽查",
    "JT-STHJJ": "生态环境部门联合双随机抽查",
    "SP-LIGHTING": "灯饰产品质量专项检查",
    "SP-FOOD": "食品安全专项检查",
    "SP-GAS": "燃气用具专项检查",
    "SP-PREPAID": "预付式消费专项检查",
    "SP-AMUSEMENT": "游乐设施专项检查",
    "SP-ELEVATOR": "电梯安全专项检查",
    "SP-PHARMACY": "药品零售专项检查",
}


@lru_cache(maxsize=1)
def result_codes() -> tuple[tuple[str, str, bool], ...]:
    """(code, Chinese wording, problem_found) in the canonical order of reference/result_codes.csv."""
    rows = _read_csv("result_codes.csv")
    return tuple((r["code"], r["name_zh"], r["problem_found"] == "true") for r in rows)


# --- vocabularies for names and addresses ------------------------------------------------------------------

BRAND_1 = tuple("明华宏鸿盛金新永佳嘉恒泰荣顺广富锦昌德利瑞骏天海中信创卓欧雅聚汇晟祥凯丰兴源百万名星光龙鑫达益康安")
BRAND_2 = tuple("辉达兴盛源发利泰华丰昌隆通宝美腾越诚信和顺亿科威诺迪尚品格雅特联灿耀晖邦豪洋星峰汇宇恒润德成运福")
SURNAMES = tuple("陈李黄梁林张何吴刘郑杨冯周谢罗叶卢苏郭麦曾彭钟邓区余高马潘胡朱徐孙蔡袁阮冼甘古简萧")
GIVEN = tuple("强明华伟杰军芳娟红丽斌辉勇东平光成荣志文建国永海金玉春秋英婷敏静健俊峰坤燕兰美宏")
ROAD_HEAD = (
    "东兴",
    "中兴",
    "富康",
    "兴业",
    "新华",
    "建设",
    "同乐",
    "永安",
    "华发",
    "顺景",
    "长安",
    "文明",
    "工业",
    "康乐",
    "民安",
    "福兴",
    "振兴",
    "人民",
    "沿江",
    "环城",
    "迎宾",
    "创业",
    "金湾",
    "龙山",
    "文昌",
    "体育",
    "祥和",
    "幸福",
    "岐江",
    "博爱",
    "孙文",
    "起湾",
    "富华",
    "兴中",
    "悦来",
    "康华",
    "银湾",
    "白石",
    "乐群",
    "升平",
)
ROAD_TAIL = ("路", "大道", "街", "北路", "南路", "东路", "西路", "中路")
HUB_NAMES = ("商务中心", "创业园", "众创空间", "科技园", "金融大厦", "商务大厦", "孵化基地", "电商产业园")
