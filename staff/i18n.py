"""Every word of the staff pages in Chinese and English; the language comes from the staff
member's choice (cookie) or the browser."""

from __future__ import annotations

from aiohttp import web

LANGUAGE_COOKIE = "staff_lang"

TEXT: dict[str, tuple[str, str]] = {
    "title": ("政务助手 · 工作台", "Assistant · Staff workspace"),
    "login": ("登录", "Sign in"),
    "logout": ("退出登录", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    # One answer for every failed sign-in (unknown name, wrong password, locked, deactivated),
    # so the page never tells which usernames exist.
    "bad_login": ("用户名或密码不正确。连续多次失败后账号会暂时锁定，请稍后再试或联系管理员。",
                  "Wrong username or password. After repeated failures an account is paused for "
                  "a while: try later or ask an administrator."),
    "signed_in_as": ("当前用户", "Signed in as"),
    "role.editor": ("编辑", "Editor"),
    "role.publisher": ("发布人", "Publisher"),
    "role.admin": ("管理员", "Administrator"),
    "nav.home": ("首页", "Home"),
    "nav.handoffs": ("人工接待队列", "Handoff queue"),
    "nav.audit": ("操作日志", "Audit log"),
    "nav.accounts": ("账号管理", "Accounts"),
    "nav.settings": ("系统设置", "Settings"),
    "settings.intro": ("当前生效的设置（密钥只显示是否已设置）。"
                       "修改方法：改对应的环境变量后重启服务，见 docs/configuration.md。",
                       "The settings in effect (secrets only say whether they are set). To "
                       "change one, set its environment variable and restart; see "
                       "docs/configuration.md."),
    "settings.name": ("设置项", "Setting"),
    "settings.value": ("当前值", "Value"),
    "settings.default": ("默认值", "Default"),
    "settings.meaning": ("说明", "Meaning"),
    "settings.read_by": ("使用方", "Read by"),
    "settings.secret": ("密钥", "secret"),
    "settings.set": ("已设置", "set"),
    "settings.not_set": ("未设置", "not set"),
    "settings.empty": ("（空）", "(empty)"),
    "home.waiting": ("等待人工接待的对话", "Conversations waiting for a person"),
    "handoffs.empty": ("目前没有等待中的对话。", "No conversation is waiting."),
    "handoffs.take": ("接待", "Take"),
    "handoffs.close": ("结束并交还助手", "Close and hand back to the assistant"),
    "handoffs.reason.requested": ("市民要求转人工", "Citizen asked for a person"),
    "handoffs.reason.repeated_failure": ("助手多次无法回答", "Assistant failed repeatedly"),
    "handoffs.status.waiting": ("等待中", "Waiting"),
    "handoffs.status.taken": ("已接待", "Taken"),
    "handoffs.taken_by": ("接待人", "Taken by"),
    "handoffs.citizen": ("市民", "Citizen"),
    "handoffs.assistant": ("助手", "Assistant"),
    "handoffs.channel": ("渠道", "Channel"),
    "audit.at": ("时间", "When"),
    "audit.actor": ("操作人", "Who"),
    "audit.action": ("操作", "What"),
    "audit.target": ("对象", "On"),
    "audit.detail": ("详情", "Details"),
    "audit.export": ("导出 CSV", "Export CSV"),
    "accounts.create": ("新建账号", "Create account"),
    "accounts.display_name": ("姓名", "Name"),
    "accounts.role": ("角色", "Role"),
    "accounts.active": ("启用", "Active"),
    "accounts.save": ("保存", "Save"),
    "accounts.created": ("账号已创建。", "Account created."),
    "accounts.updated": ("账号已更新。", "Account updated."),
    "weak_password": ("密码至少 12 个字符，且首尾不能有空格。",
                      "Passwords need at least 12 characters and no leading or trailing spaces."),
    "bad_username": ("用户名只能包含字母、数字和 . _ -。", "Usernames may contain letters, "
                     "digits and . _ - only."),
    "bad_role": ("没有这个角色。", "There is no such role."),
    "user_exists": ("这个用户名已被使用。", "That username is taken."),
    "no_such_user": ("没有这个账号。", "There is no such account."),
    "not_yourself": ("不能停用自己或取消自己的管理员角色。",
                     "You cannot deactivate yourself or drop your own admin role."),
    "forbidden": ("您的角色没有这个权限。", "Your role does not allow this."),
    "csrf": ("页面已过期，请刷新后重试。", "This page has expired; reload it and try again."),
    "not_found": ("找不到这个页面或记录。", "Page or record not found."),
    "conflict": ("当前状态下不能这样操作。", "That is not possible in its current state."),
    "switch_language": ("English", "中文"),
    "nav.documents": ("政策文件", "Documents"),
    "docs.new": ("上传新文件或新版本", "Upload a document or a new version"),
    "docs.search": ("搜索标题或编号", "Search title or id"),
    "docs.filter": ("筛选", "Filter"),
    "docs.any": ("全部", "Any"),
    "docs.id": ("编号", "Id"),
    "docs.title": ("标题", "Title"),
    "docs.department": ("部门", "Department"),
    "docs.language": ("语言", "Language"),
    "docs.status": ("状态", "Status"),
    "docs.status.current": ("现行有效", "In force"),
    "docs.status.expired": ("已失效", "Expired"),
    "docs.status.superseded": ("已被替代", "Superseded"),
    "docs.status.draft": ("草稿", "Draft"),
    "docs.file": ("文件（PDF、DOCX、HTML、Markdown、TXT）",
                  "File (PDF, DOCX, HTML, Markdown, TXT)"),
    "docs.effective_date": ("生效日期", "In force from"),
    "docs.expires": ("失效日期", "Expires"),
    "docs.source": ("来源网址", "Source URL"),
    "docs.superseded_by": ("被哪个文件替代（编号）", "Superseded by (id)"),
    "docs.metadata_hint": ("留空的字段取自文件本身（Markdown 的 front matter）。",
                           "Fields left empty are taken from the file itself (Markdown front "
                           "matter)."),
    "docs.upload": ("保存为草稿", "Save as draft"),
    "docs.or_write": ("或者直接在这里写（Markdown：# 标题，## 小节）",
                      "Or write it here (Markdown: # title, ## sections)"),
    "docs.edit_text": ("在页面中修改内容", "Edit the text here"),
    "docs.preview": ("分段预览（助手检索的单位）", "How it will be split into passages"),
    "docs.try": ("试问一个问题：助手会怎么回答？",
                 "Try a question: what would the assistant answer?"),
    "docs.ask": ("试问", "Ask"),
    "docs.from_draft": ("来自本草稿", "from this draft"),
    "docs.from_live": ("来自已发布的其他文件", "from another published document"),
    "docs.publish": ("发布", "Publish"),
    "docs.discard": ("删除草稿", "Discard draft"),
    "docs.edit": ("基于此版本编辑（新建草稿）", "Edit (start a draft from this version)"),
    "docs.open_draft": ("打开草稿", "Open the draft"),
    "docs.unpublish": ("撤下（助手不再引用）", "Unpublish (the assistant stops using it)"),
    "docs.versions": ("版本历史", "Versions"),
    "docs.version": ("版本", "Version"),
    "docs.by": ("发布人", "Published by"),
    "docs.when": ("发布时间", "When"),
    "docs.note": ("说明", "Note"),
    "docs.compare": ("与上一版比较", "Compare with previous"),
    "docs.rollback": ("恢复为此版本", "Restore this version"),
    "docs.not_published": ("这个文件目前没有发布。", "This document is not published now."),
    "docs.diff": ("版本差异", "Differences"),
    "no_file": ("请选择要上传的文件。", "Choose a file to upload."),
    "nav.unanswered": ("未解答的问题", "Unanswered questions"),
    "nav.analytics": ("统计", "Analytics"),
    "unanswered.intro": ("意思相近的问题归为一组，按提问次数排序。"
                         "写好文件后，把这一组关联到文件即可标记为已处理。",
                         "Questions with the same meaning are grouped, most asked first. Once a "
                         "document answers a group, link it to mark the group handled."),
    "unanswered.count": ("提问次数", "Times asked"),
    "unanswered.poorly_rated": ("其中回答被评为没帮助", "of which answers rated not helpful"),
    "unanswered.examples": ("例子", "Examples"),
    "unanswered.link": ("关联到文件（编号）并标记已处理", "Link to document (id) and mark handled"),
    "unanswered.none": ("目前没有未解答的问题。", "No unanswered questions right now."),
    "unanswered.marked": ("已标记为已处理。这些问题已加入该文件的草稿，作为它回答的问题；"
                          "发布草稿后助手即按此回答。",
                          "Marked as handled. The questions were added to the document's draft "
                          "as questions it answers; once the draft is published the assistant "
                          "answers them from it."),
    "docs.questions": ("这个文件回答的问题（每行一个；市民的提问会与这些问题比对）",
                       "Questions this document answers (one per line; citizens' questions are "
                       "matched against them)"),
    "unanswered.no_document": ("没有这个已发布的文件。",
                               "There is no published document with that id."),
    "analytics.last_days": ("最近 {days} 天", "Last {days} days"),
    "analytics.per_day": ("每天的提问（按渠道和语言）",
                          "Questions per day by channel and language"),
    "analytics.day": ("日期", "Day"),
    "analytics.answered_rate": ("政策问题答出率", "Policy questions answered"),
    "analytics.feedback_rate": ("回答的评价率（其中有帮助）",
                                "Answers rated (of which helpful)"),
    "analytics.top_intents": ("最常见的意图", "Top intents"),
    "analytics.departments": ("转办工单（按部门）", "Tickets by department"),
    "analytics.count": ("数量", "Count"),
    # JSON API errors
    "unauthorized": ("需要有效的访问令牌。", "A valid access token is required."),
    "bad_status": ("status 只能是 waiting、taken、closed 或 all。",
                   "status must be waiting, taken, closed or all."),
    "bad_reassign": ("请求体必须是 JSON 对象，包含 staff（1–120 个字符）"
                     "和 department（部门编号）。",
                     "The body must be a JSON object with staff (1-120 characters) and "
                     "department (a department id)."),
    "bad_department": ("没有这个部门，或工单已在该部门。",
                       "No such department, or the ticket is already there."),
    "bad_id": ("编号必须是数字。", "The id must be a number."),
    "bad_body": ("请求体必须是 JSON 对象，staff 为 1–120 个字符。",
                 "The body must be a JSON object with staff of 1-120 characters."),
    "bad_reply": ("请填写回复内容（最多 2000 字）。", "Write a reply (at most 2,000 characters)."),
    "reply_failed": ("回复没有送达，请稍后再试。", "The reply could not be delivered; try again."),
    "handoffs.reply": ("回复市民", "Reply to the citizen"),
    "handoffs.sent": ("回复已发送。", "Reply sent."),
    "resume_failed": ("已关闭，但未能通知助手恢复对话。",
                      "Closed, but the assistant could not be told to resume the conversation."),
}


def language_of(request: web.Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in ("zh", "en"):
        return chosen
    return "zh" if request.headers.get("Accept-Language", "").lower().startswith("zh") else "en"


def translate(key: str, language: str) -> str:
    zh, en = TEXT.get(key, (key, key))
    return zh if language == "zh" else en
