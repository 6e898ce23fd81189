package console

import (
	"net/http"
	"strings"
)

// Languages of the console: zh-CN (default) and en.
const (
	langZH = "zh-CN"
	langEN = "en"
)

// pickLang takes ?lang=, then the lang cookie, then Accept-Language.
func pickLang(r *http.Request) string {
	for _, v := range []string{r.URL.Query().Get("lang"), cookieValue(r, "lang")} {
		switch strings.ToLower(v) {
		case "en":
			return langEN
		case "zh-cn", "zh":
			return langZH
		}
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return langZH
		case strings.HasPrefix(tag, "en"):
			return langEN
		}
	}
	return langZH
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// messages holds each text of the pages in Chinese and English.
var messages = map[string][2]string{
	"console":                    {"证书管理控制台", "Certificate console"},
	"signin":                     {"登录", "Sign in"},
	"signout":                    {"退出登录", "Sign out"},
	"signout.everywhere":         {"在所有设备上退出", "Sign out everywhere"},
	"email":                      {"电子邮箱", "Email"},
	"password":                   {"密码", "Password"},
	"totp":                       {"动态验证码或恢复码", "Authenticator code or recovery code"},
	"displayName":                {"姓名", "Name"},
	"setup.title":                {"设置控制台账户", "Set up your console account"},
	"setup.intro":                {"请设置登录邮箱和密码（至少 12 个字符）。", "Choose your sign-in email and a password (at least 12 characters)."},
	"setup.submit":               {"创建账户", "Create account"},
	"dashboard":                  {"概览", "Dashboard"},
	"certificates":               {"证书", "Certificates"},
	"new":                        {"签发证书", "Issue a certificate"},
	"users":                      {"用户", "Users"},
	"status":                     {"状态", "Status"},
	"scheme":                     {"认证类型", "Scheme"},
	"number":                     {"证书编号", "Number"},
	"organization":               {"获证组织", "Organization"},
	"validUntil":                 {"有效期至", "Valid until"},
	"validFrom":                  {"发证日期", "Valid from"},
	"surveillance":               {"监督审核", "Surveillance"},
	"search":                     {"搜索", "Search"},
	"filter":                     {"筛选", "Filter"},
	"all":                        {"全部", "All"},
	"text":                       {"编号、名称或信用代码", "Number, name or USCC"},
	"export.csv":                 {"导出 CSV", "Export CSV"},
	"export.xlsx":                {"导出 Excel", "Export XLSX"},
	"next":                       {"下一页", "Next page"},
	"prev":                       {"上一页", "Previous page"},
	"count":                      {"共 %d 张", "%d certificates"},
	"none":                       {"没有符合条件的证书。", "No certificate matches."},
	"by.status":                  {"按状态", "By status"},
	"by.scheme":                  {"按认证类型", "By scheme"},
	"due":                        {"监督审核到期", "Surveillance audits due"},
	"due.window":                 {"%d 天内", "within %d days"},
	"overdue":                    {"逾期未审核", "Overdue"},
	"suspended.recent":           {"近期暂停", "Recently suspended"},
	"expiring":                   {"6 个月内到期（需换证）", "Expiring within 6 months (renewal)"},
	"recent":                     {"最近变更", "Recent changes"},
	"audit.details":              {"审核信息（报送用，可选）", "Audit details (for regulators' reports, optional)"},
	"audit.type":                 {"审核类型", "Audit type"},
	"audit.type.initial":         {"初次认证审核", "Initial"},
	"audit.type.surveillance":    {"监督审核", "Surveillance"},
	"audit.type.recertification": {"再认证审核", "Recertification"},
	"audit.type.special":         {"特殊审核", "Special"},
	"audit.mode":                 {"审核方式", "Audit mode"},
	"audit.mode.FS01":            {"现场审核", "on site"},
	"audit.mode.FS02":            {"远程审核", "remote"},
	"audit.mode.FS03":            {"现场结合远程", "combined"},
	"audit.firstDay":             {"审核开始日期", "First day of the audit"},
	"audit.lastDay":              {"审核结束日期", "Last day of the audit"},
	"audit.team":                 {"审核组", "Audit team"},
	"audit.team.help":            {"每行一人：姓名 | 角色（leader、auditor、technical_expert、observer、trainee、interpreter）", "One a line: name | role (leader, auditor, technical_expert, observer, trainee, interpreter)"},
	"audit.personDays":           {"现场审核人日数", "On-site person-days"},
	"audit.decisionDate":         {"认证决定日期", "Decision date"},
	"audit.decisionMakers":       {"认证决定人员", "Decision makers"},
	"audit.technicalAreas":       {"专业代码", "Technical areas"},
	"audit.technicalAreas.help":  {"IAF 代码 01–39，逗号分隔，例如 28, 19.1", "IAF codes 01–39, comma-separated, e.g. 28, 19.1"},
	"audit.list.help":            {"逗号分隔", "comma-separated"},
	"audit.employees":            {"覆盖员工人数", "Employees covered"},
	"audit.record":               {"审核信息", "Audit record"},
	"confidential":               {"不公开", "Confidential"},
	"confidential.own":           {"本证书", "This certificate"},
	"confidential.org":           {"该组织在本机构的全部证书", "All certificates of this organization from this body"},
	"confidential.effective":     {"公开检索与 IAF CertSearch 中不显示；扫码与按编号验证照常。", "Left out of public search and IAF CertSearch; verification by QR code and id still works."},
	"confidential.public":        {"公开", "Public"},
	"confidential.set":           {"设为不公开", "Make confidential"},
	"confidential.clear":         {"设为公开", "Make public"},
	"reports.due":                {"待报送的报告", "Reports due"},
	"reports.none":               {"没有待报送的报告。", "No report is due."},
	"reports.target":             {"报送对象", "Report"},
	"reports.period":             {"期间", "Period"},
	"reports.outstanding":        {"未报送变更", "Changes not submitted"},
	"reports.deadline":           {"截止日期", "Deadline"},
	"reports.warning.due_soon":   {"即将到期", "Due soon"},
	"reports.warning.overdue":    {"已逾期", "Overdue"},
	"public.page":                {"公开验证页", "Public verification page"},
	"pdf":                        {"PDF 证书", "PDF certificate"},
	"qr":                         {"二维码", "QR code"},
	"history":                    {"变更记录", "History"},
	"actions":                    {"操作", "Actions"},
	"reason":                     {"原因", "Reason"},
	"confirm":                    {"确认", "Confirm"},
	"confirm.irreversible": {"此操作不可撤销。我已确认。",
		"This cannot be undone. I confirm."},
	"submit":                 {"提交", "Submit"},
	"preview":                {"预览", "Preview"},
	"issue":                  {"签发", "Issue"},
	"edit":                   {"修改", "Edit"},
	"conflict":               {"证书已被他人修改", "The certificate was changed meanwhile"},
	"conflict.text":          {"您打开此页面后，另一位用户修改了这张证书。请查看下面的最新状态，再决定是否重新操作。", "Someone else changed this certificate after you opened the page. Check its current state below before you try again."},
	"forbidden":              {"您的角色不能执行此操作。", "Your role does not allow this."},
	"notfound":               {"没有找到。", "Not found."},
	"error":                  {"出错了", "Something went wrong"},
	"invite":                 {"邀请同事", "Invite a colleague"},
	"role":                   {"角色", "Role"},
	"disabled":               {"已停用", "Disabled"},
	"disable":                {"停用", "Disable"},
	"enable":                 {"启用", "Enable"},
	"save":                   {"保存", "Save"},
	"invite.link":            {"邀请链接（24 小时内有效，只显示一次）：", "Invitation link (valid 24 hours, shown once):"},
	"audit":                  {"账户审计记录", "Account audit trail"},
	"language":               {"English", "中文"},
	"skip":                   {"跳到正文", "Skip to content"},
	"required":               {"必填", "required"},
	"sites":                  {"认证场所", "Certified sites"},
	"scope":                  {"认证范围", "Scope"},
	"scopeEn":                {"认证范围（英文）", "Scope (English)"},
	"standard":               {"标准", "Standard"},
	"category":               {"类别", "Category"},
	"level":                  {"级别", "Level"},
	"uscc":                   {"统一社会信用代码", "Unified social credit code"},
	"nameEn":                 {"英文名称", "English name"},
	"address":                {"地址", "Address"},
	"orgEmail":               {"联系邮箱（仅用于通知，不公开）", "Contact e-mail (for notifications, not published)"},
	"decisionDate":           {"认证决定日期", "Decision date"},
	"preview.text":           {"请核对将要签发的内容。签发后证书内容即被签名，不能更改。", "Check what will be signed. Once issued, the certificate is signed and cannot change."},
	"fix.errors":             {"请更正以下错误：", "Please correct these errors:"},
	"date":                   {"日期", "Date"},
	"result":                 {"结果", "Result"},
	"passed":                 {"通过", "Passed"},
	"failed":                 {"未通过", "Failed"},
	"auditRef":               {"审核报告编号", "Audit report reference"},
	"until":                  {"暂停至（可选）", "Suspended until (optional)"},
	"will.change":            {"将发生的变化", "What will change"},
	"version":                {"版本", "Version"},
	"event":                  {"事件", "Event"},
	"actor":                  {"操作人", "By"},
	"at":                     {"时间", "When"},
	"security":               {"账户安全", "Account security"},
	"totp.title":             {"两步验证", "Two-step verification"},
	"totp.on":                {"两步验证已开启；登录时需要动态验证码。", "Two-step verification is on: sign-in asks for a code."},
	"totp.begin":             {"开启两步验证", "Turn on two-step verification"},
	"totp.scan":              {"在身份验证器应用中添加下面的密钥，然后输入它显示的 6 位验证码。", "Add this key to your authenticator app, then enter the 6-digit code it shows."},
	"totp.codes":             {"请保存这些恢复码（只显示这一次）；每个恢复码可代替验证码使用一次。", "Keep these recovery codes (shown only now); each replaces a code once."},
	"password.change":        {"修改密码", "Change password"},
	"password.current":       {"当前密码", "Current password"},
	"password.new":           {"新密码（至少 12 个字符）", "New password (at least 12 characters)"},
	"import":                 {"批量导入", "Import"},
	"import.file":            {"CSV（UTF-8）或 XLSX 文件，首行为列名，与 certctl 相同", "CSV (UTF-8) or XLSX file, a header row naming the columns, as for certctl"},
	"import.check":           {"检查并导入", "Check and import"},
	"import.columns":         {"列", "Columns"},
	"import.issued":          {"已签发", "Issued"},
	"import.replayed":        {"此前已签发", "Issued before"},
	"import.failed":          {"失败", "Failed"},
	"import.result":          {"下载结果文件", "Download the result file"},
	"row":                    {"行", "Row"},
	"column":                 {"列", "Column"},
	"problem":                {"问题", "Problem"},
	"profile":                {"认证机构信息", "Issuer profile"},
	"profile.name":           {"英文名称", "Name (English)"},
	"profile.nameZh":         {"中文名称", "Name (Chinese)"},
	"profile.phone":          {"电话", "Phone"},
	"profile.accreditation":  {"认可信息（每行：认可机构 | 认可证书号）", "Accreditation (one a line: body | number)"},
	"profile.approval":       {"CNCA 批准号", "CNCA approval number"},
	"profile.signatory":      {"签发人", "Signatory"},
	"profile.signatoryTitle": {"签发人职务", "Signatory's title"},
	"profile.timeZone":       {"时区", "Time zone"},
	"profile.pattern":        {"证书编号规则", "Number pattern"},
	"profile.tokens":         {"编号规则须包含 {SEQ:n}，可用 {YYYY}、{PREFIX}。", "A pattern must hold {SEQ:n}; {YYYY} and {PREFIX} may be used."},
	"profile.reminders":      {"提醒", "Reminders"},
	"profile.remindOpen":     {"监督审核窗口开始时提醒", "Remind when a surveillance window opens"},
	"profile.remindClose":    {"监督审核窗口结束前提醒（天，逗号分隔）", "Remind before a surveillance window closes (days, separated by commas)"},
	"profile.remindExpiry":   {"证书到期前提醒（天，逗号分隔）", "Remind before expiry (days, separated by commas)"},
	"profile.remindNote":     {"每项 1–365 天，最多 5 个；提醒于当天 09:00（机构时区）发出，停机超过 7 天错过的提醒不再补发。", "Each 1 to 365 days, at most 5; reminders go out at 09:00 of their day (the issuer's time zone); one missed by a downtime of more than 7 days is not sent late."},
	"profile.logo":           {"标志", "Logo"},
	"profile.seal":           {"公章", "Seal"},
	"profile.preview":        {"预览证书 PDF（样本）", "Preview the certificate PDF (a sample)"},
	"profile.delete":         {"删除", "Remove"},
	"profile.conflict":       {"其他管理员刚刚修改了机构信息；请查看最新内容后重新保存。", "Another administrator changed the profile meanwhile: check it and save again."},
	"keys":                   {"密钥", "Keys"},
	"keys.api":               {"API 密钥", "API keys"},
	"keys.signing":           {"签名密钥", "Signing keys"},
	"keys.token":             {"新的 API 密钥（只显示这一次，请立即保存）：", "The new API key (shown only now: store it at once):"},
	"keys.created":           {"创建时间", "Created"},
	"keys.used":              {"最近使用", "Last used"},
	"keys.revoked":           {"已吊销", "Revoked"},
	"keys.revoke":            {"吊销", "Revoke"},
	"keys.create":            {"创建 API 密钥", "Create an API key"},
	"keys.type":              {"新密钥类型", "Type of the new key"},
	"keys.rotate":            {"轮换签名密钥", "Rotate the signing key"},
	"keys.rotate.warn":       {"新证书将由新密钥签名；旧密钥停用但仍可验证已签发的证书。", "New certificates are signed with a new key; the old one is retired and still verifies what it signed."},
	"keys.revoke.warn":       {"吊销后，此密钥签名的所有证书都将无法通过验证。仅在密钥泄露时使用。", "After revocation nothing this key signed verifies any more. Only for a compromised key."},
	"viewer.note":            {"您是只读用户，不能修改证书。", "You are a viewer: you can read everything and change nothing."},

	// The webhooks page.
	"webhooks":                {"Webhook", "Webhooks"},
	"webhooks.intro":          {"认证机构自己的系统（CRM、审核计划）通过 Webhook 接收证书事件。每次投递按 Standard Webhooks 规范签名（webhook-id、webhook-timestamp、webhook-signature）。", "Your own systems (CRM, audit planning) receive certificate events through webhooks. Every delivery is signed as the Standard Webhooks specification says (webhook-id, webhook-timestamp, webhook-signature)."},
	"webhooks.none":           {"尚未登记 Webhook。", "No webhook registered yet."},
	"webhooks.url":            {"接收地址（https）", "Endpoint URL (https)"},
	"webhooks.events":         {"事件", "Events"},
	"webhooks.events.help":    {"不勾选即接收全部事件。", "Tick none to receive every event."},
	"webhooks.events.all":     {"全部", "All"},
	"webhooks.active":         {"启用", "Active"},
	"webhooks.state":          {"状态", "State"},
	"webhooks.on":             {"已启用", "Active"},
	"webhooks.paused":         {"已关闭", "Off"},
	"webhooks.last":           {"最近一次投递", "Last delivery"},
	"webhooks.create":         {"登记 Webhook", "Register a webhook"},
	"webhooks.secret":         {"签名密钥（只显示这一次，请立即复制并保存到接收端）：", "Signing secret (shown only this once: copy it now and store it with the receiver):"},
	"webhooks.copy":           {"点击文本框后按 Ctrl+A、Ctrl+C（Mac 上为 ⌘A、⌘C）复制。", "Click the box, then press Ctrl+A and Ctrl+C (⌘A, ⌘C on a Mac) to copy it."},
	"webhooks.edit":           {"修改", "Change"},
	"webhooks.delete":         {"删除此 Webhook", "Delete this webhook"},
	"webhooks.delete.warn":    {"删除后不再向此地址投递；投递记录保留。", "Nothing more is delivered to this endpoint; its delivery log stays."},
	"webhooks.deliveries":     {"投递记录", "Delivery log"},
	"webhooks.nodeliveries":   {"尚无投递。", "No delivery yet."},
	"webhooks.type":           {"事件类型", "Event type"},
	"webhooks.attempts":       {"尝试次数", "Attempts"},
	"webhooks.code":           {"响应码", "Response"},
	"webhooks.error":          {"最近错误", "Last error"},
	"webhooks.created":        {"创建时间", "Created"},
	"webhooks.lastAttempt":    {"最近尝试", "Last attempt"},
	"webhooks.nextAttempt":    {"下次尝试", "Next attempt"},
	"webhooks.redeliver":      {"重新投递", "Redeliver"},
	"webhooks.redelivered":    {"已安排立即重新投递（webhook-id 不变）。", "The delivery is due again now (same webhook-id)."},
	"webhooks.saved":          {"已保存。", "Saved."},
	"webhooks.inflight":       {"此投递正在进行中，请稍后再试。", "This delivery is being attempted right now: try again in a minute."},
	"webhooks.off":            {"已停用的 Webhook", "Disabled webhooks"},
	"webhooks.off.help":       {"certd 已停止向这些地址投递。修复接收端后，在 Webhook 页面重新启用，并可重新投递失败的记录。", "certd stopped delivering to these endpoints. Fix the receiver, enable the webhook again on its page, and redeliver what failed."},
	"webhooks.reason.gone":    {"接收端返回 410 Gone", "the receiver answered 410 Gone"},
	"webhooks.reason.failing": {"连续 3 天投递失败", "deliveries failed for 3 days"},
	"delivery.pending":        {"待投递", "Pending"},
	"delivery.delivered":      {"已送达", "Delivered"},
	"delivery.failed":         {"失败", "Failed"},
}

// actionNames are the lifecycle actions' titles.
var actionNames = map[string][2]string{
	"surveillance": {"记录监督审核", "Record a surveillance audit"},
	"suspend":      {"暂停", "Suspend"},
	"reinstate":    {"恢复", "Reinstate"},
	"withdraw":     {"撤销", "Withdraw"},
	"cancel":       {"注销", "Cancel"},
	"renew":        {"换证（再认证）", "Renew"},
	"revise":       {"变更（换发新版本）", "Revise"},
}

// actionEffects says what each action does, for the confirmation page.
var actionEffects = map[string][2]string{
	"surveillance": {"记录一次监督审核结果；通过的审核满足当前监督周期，未通过的审核不改变状态。", "Records an audit result; a passed audit fulfils the current surveillance window, a failed one changes nothing by itself."},
	"suspend":      {"证书立即变为“暂停”，公开验证页显示暂停及原因。", "The certificate becomes suspended at once; the public page shows it with the reason."},
	"reinstate":    {"结束人工暂停，证书恢复有效（若无其他暂停原因）。", "Ends a manual suspension; the certificate is active again unless another cause holds it."},
	"withdraw":     {"证书立即被撤销，永久无效。", "The certificate is withdrawn at once and permanently invalid."},
	"cancel":       {"证书立即被注销，永久无效。", "The certificate is cancelled at once and permanently invalid."},
	"renew":        {"签发一张新证书（新的三年有效期），旧证书在新证书生效时被替代。", "Issues a new certificate for a new three-year term; the old one is superseded when the new one starts."},
	"revise":       {"签发修订后的新证书，旧证书立即被替代。", "Issues a revised certificate; the old one is superseded at once."},
}

// irreversible actions ask for an explicit confirmation.
var irreversible = map[string]bool{"withdraw": true, "cancel": true, "renew": true, "revise": true}

// statusNames are the derived statuses' labels.
var statusNames = map[string][2]string{
	"active": {"有效", "Active"}, "suspended": {"暂停", "Suspended"}, "withdrawn": {"撤销", "Withdrawn"},
	"cancelled": {"注销", "Cancelled"}, "expired": {"过期", "Expired"}, "superseded": {"已换证", "Superseded"},
	"not_due": {"未到期", "Not due"}, "due": {"待审核", "Due"}, "done": {"已完成", "Done"}, "overdue": {"逾期", "Overdue"}, "none": {"无", "None"},
}

// tr returns the text of key in lang (the key itself when unknown).
func tr(table map[string][2]string, lang, key string) string {
	m, ok := table[key]
	if !ok {
		return key
	}
	if lang == langEN {
		return m[1]
	}
	return m[0]
}
