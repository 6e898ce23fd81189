package templates

import (
	"strconv"
	"time"

	"github.com/certd/certd/cert"
)

// messages holds the fixed texts of the pages; both languages have the same
// keys (a test checks it, and that every key a template uses exists).
var messages = map[string]map[string]string{
	"zh-CN": {
		"lang.name":          "中文",
		"lang.switch":        "English",
		"site.name":          "证书验证",
		"site.tagline":       "认证证书真伪与状态查询",
		"nav.home":           "首页",
		"nav.search":         "搜索",
		"verify.title":       "证书验证结果",
		"verify.todo":        "您应当",
		"cert.heading":       "证书信息",
		"cert.org":           "获证组织",
		"cert.orgEn":         "英文名称",
		"cert.uscc":          "统一社会信用代码",
		"cert.number":        "证书编号",
		"cert.scheme":        "认证项目",
		"cert.standard":      "认证依据",
		"cert.category":      "类别",
		"cert.level":         "级别",
		"cert.scope":         "认证范围",
		"cert.validity":      "有效期",
		"cert.original":      "初次获证日期",
		"cert.issuer":        "颁证机构",
		"cert.accredit":      "认可信息",
		"cert.assessor":      "审核机构",
		"cert.successor":     "新证书",
		"cert.predecessor":   "原证书",
		"cert.issuerNow":     "颁证机构现名称",
		"cert.approval":      "批准号",
		"cert.address":       "地址",
		"cert.site":          "认证场所",
		"cert.website":       "颁证机构网站",
		"matches.title":      "多个颁证机构使用此证书编号",
		"matches.intro":      "以下颁证机构都有编号为此的证书。请选择证书上印有的颁证机构：",
		"surv.heading":       "监督审核",
		"checks.heading":     "核验项目",
		"hist.heading":       "状态变更记录",
		"hist.auto":          "按认证规则自动变更",
		"fraud.heading":      "如何确认本页真实可信",
		"fraud.address":      "本页面的网址必须是：",
		"fraud.lookalike":    "伪造证书常附带指向仿冒网站的二维码。如果浏览器地址栏显示的域名与上面不同，请不要相信页面内容。",
		"fraud.signed":       "数字签名",
		"fraud.signer":       "签发机构",
		"fraud.kid":          "签名密钥（kid）",
		"fraud.compare":      "请逐字比对纸质证书上的组织名称与本页显示的名称：",
		"fraud.mismatch":     "名称不一致时，该证书不属于向您出示它的组织。",
		"links.heading":      "下载与数据",
		"links.pdf":          "证书 PDF（可打印）",
		"links.jwt":          "签名凭证（可离线验证）",
		"links.jwks":         "颁证机构公钥",
		"links.json":         "机器可读的验证结果（JSON）",
		"foot.checked":       "核验时间：",
		"foot.about":         "本站核验证书的数字签名、有效期及当前状态（暂停、撤销、注销、监督审核）。",
		"foot.api":           "API 文档",
		"nf.requested":       "您查询的证书标识：",
		"search.title":       "证书搜索",
		"search.label":       "证书编号、组织名称或统一社会信用代码",
		"search.button":      "搜索",
		"search.hint":        "组织名称可输入其中一部分（中文或英文）；证书编号与统一社会信用代码须完整输入。",
		"search.short":       "请至少输入 2 个字符（中文可输入 1 个字）。",
		"search.long":        "搜索内容过长，请缩短后再试。",
		"search.noword":      "请输入至少一个字母、数字或汉字：仅有标点符号无法搜索。",
		"search.none":        "没有找到匹配的证书。请检查输入是否正确；如证书上的信息在本站查不到，该证书可能并非由本站登记的机构颁发。",
		"search.results":     "搜索结果",
		"search.count":       "共 %d 条结果",
		"search.countone":    "共 1 条结果",
		"search.countmore":   "超过 %d 条结果",
		"search.for":         "搜索：",
		"search.next":        "下一页",
		"search.first":       "回到第一页",
		"search.open":        "查看验证页面",
		"nav.verifyfile":     "验证文件",
		"vf.title":           "验证证书文件",
		"vf.what":            "上传证书 PDF 或签名凭证（.jwt 文件），或粘贴凭证内容：本站读取 PDF 附带的签名凭证，严格核验其数字签名，并显示该证书当前的状态。",
		"vf.file":            "证书文件（PDF 或 .jwt，最大 16 MiB）",
		"vf.token":           "或粘贴签名凭证（以 eyJ 开头的一长串字符）",
		"vf.button":          "验证",
		"vf.hint":            "文件只用于本次核验，本站不保存。无需 JavaScript。",
		"vf.none":            "该文件不含本站签发的证书凭证",
		"vf.noneWhy":         "本站颁发的证书 PDF 都附带名为 credential.jwt 的签名凭证。打印或“另存为”生成的新 PDF 不再包含它：请使用颁证机构提供的原始 PDF，或扫描证书上的二维码。",
		"vf.forged":          "凭证不真实",
		"watch.heading":      "证书状态变化时通知我",
		"watch.what":         "留下邮箱：该证书（及换证后的新证书）被暂停、撤销、注销、过期、恢复或换证时，本站给您发邮件。需先点击确认邮件中的链接；每封通知都带退订链接。",
		"watch.email":        "电子邮箱",
		"watch.button":       "订阅",
		"watch.hint":         "颁证机构看不到您的邮箱。无需 JavaScript。",
		"wp.sent.title":      "请查收邮件",
		"wp.sent.text":       "如果该地址能收到邮件，一封带确认链接的邮件正在发出。点击链接并确认后，订阅才生效；链接 48 小时内有效。",
		"wp.confirm.title":   "确认订阅",
		"wp.confirm.text":    "点击下面的按钮，确认在该证书状态变化时接收邮件通知。",
		"wp.confirm.button":  "确认订阅",
		"wp.confirmed.title": "订阅已确认",
		"wp.confirmed.text":  "该证书状态变化时，您会收到邮件；每封邮件都带退订链接。",
		"wp.invalid.title":   "链接无效或已过期",
		"wp.invalid.text":    "该确认链接未知、已使用或已超过 48 小时。请回到证书验证页重新订阅。",
		"wp.unsub.title":     "退订",
		"wp.unsub.text":      "点击下面的按钮，停止接收该证书的状态通知。",
		"wp.unsub.button":    "退订",
		"wp.unsubbed.title":  "已退订",
		"wp.unsubbed.text":   "您不会再收到这项订阅的邮件。",
		"wp.back":            "返回首页",
		"vf.forgedWhy":       "该凭证的数字签名无法用本站登记的颁证机构的公钥验证，或其内容已被改动。请不要信任该文件，并联系文件上所写的颁证机构。",
		"err.request":        "请求编号：",
		"err.404":            "页面不存在",
		"err.404.why":        "本站没有这个地址。如果它印在证书上，该证书可能是伪造的或地址输入有误：请用首页的搜索框按证书编号查找。",
		"err.503":            "服务暂时不可用",
		"err.503.why":        "本站暂时无法读取证书数据，因此现在无法判断任何证书是否有效。请几秒后重试；在此之前，不要把证书视为有效。",
		"err.413":            "文件太大",
		"err.413.why":        "上传的文件超过 16 MiB。证书 PDF 通常小于 1 MiB：请上传颁证机构提供的原始 PDF。",
		"err.429":            "请求过于频繁",
		"err.429.why":        "来自您网络的请求太多。请稍等片刻再试。",
		"err.4xx":            "无法处理该请求",
		"err.4xx.why":        "请求的内容无法读取。请返回上一页检查后重试。",
		"err.500":            "内部错误",
		"err.500.why":        "本站出现了问题，不是您操作有误。请稍后重试；如问题持续，请向本站报告下面的请求编号。",
		"home.title":         "证书验证服务",
		"home.what":          "本站登记以下认证机构颁发的认证证书，任何人都可以免费核验证书是否真实、当前是否有效。每份证书都带有颁证机构的数字签名，并可按其公布的公钥离线验证。",
		"home.issuers":       "在本站登记证书的机构",
		"home.how":           "如何验证一份证书",
		"home.how1":          "用手机相机扫描证书上的二维码，打开本站的验证页面；",
		"home.how2":          "或在上面的搜索框输入证书编号、组织名称或统一社会信用代码；",
		"home.how3":          "确认浏览器地址栏显示的是本站域名，页面显示“有效”，并且组织名称与纸质证书逐字一致。",
		"home.dev":           "开发者与批量核验",
		"home.openapi":       "API 文档（OpenAPI）",
		"home.jwks":          "所有颁证机构的公钥（JWKS）",
		"home.verifyapi":     "按证书标识获取验证结果：GET /api/v1/verify/{id}；批量：POST /api/v1/verify/batch",
		"word.ok":            "通过",
		"word.failed":        "未通过",
		"check.signature":    "数字签名",
		"check.validity":     "有效期",
		"check.revocation":   "撤销状态",
		"check.suspension":   "暂停状态",
		"check.surveillance": "监督审核",
	},
	"en": {
		"lang.name":          "English",
		"lang.switch":        "中文",
		"site.name":          "Certificate verification",
		"site.tagline":       "Is this certificate genuine and valid today?",
		"nav.home":           "Home",
		"nav.search":         "Search",
		"verify.title":       "Certificate verification result",
		"verify.todo":        "What to do",
		"cert.heading":       "The certificate",
		"cert.org":           "Organization",
		"cert.orgEn":         "Name in English",
		"cert.uscc":          "Unified social credit code (USCC)",
		"cert.number":        "Certificate number",
		"cert.scheme":        "Scheme",
		"cert.standard":      "Standard",
		"cert.category":      "Category",
		"cert.level":         "Level",
		"cert.scope":         "Scope",
		"cert.validity":      "Validity",
		"cert.original":      "Originally certified",
		"cert.issuer":        "Issued by",
		"cert.accredit":      "Accreditation",
		"cert.assessor":      "Assessment body",
		"cert.successor":     "New certificate",
		"cert.predecessor":   "Replaces certificate",
		"cert.issuerNow":     "Current issuer name",
		"cert.approval":      "Approval number",
		"cert.address":       "Address",
		"cert.site":          "Certified site",
		"cert.website":       "Issuer's website",
		"matches.title":      "Several issuers use this certificate number",
		"matches.intro":      "Certificates with this number are registered by these issuers. Choose the issuer printed on the certificate:",
		"surv.heading":       "Surveillance audits",
		"checks.heading":     "Checks",
		"hist.heading":       "History of status changes",
		"hist.auto":          "automatic, by the scheme's rules",
		"fraud.heading":      "Make sure this page is genuine",
		"fraud.address":      "The address of this page must be:",
		"fraud.lookalike":    "Forged certificates often carry QR codes that lead to look-alike sites. If your address bar shows another domain, do not trust what this page says.",
		"fraud.signed":       "Digital signature",
		"fraud.signer":       "Signed by",
		"fraud.kid":          "Signing key (kid)",
		"fraud.compare":      "Compare the organization name on the paper certificate, character by character, with the name shown here:",
		"fraud.mismatch":     "If the names differ, the certificate does not belong to the organization that showed it to you.",
		"links.heading":      "Downloads and data",
		"links.pdf":          "Certificate (PDF, printable)",
		"links.jwt":          "Signed credential (verifiable offline)",
		"links.jwks":         "The issuer's public keys",
		"links.json":         "This result for programs (JSON)",
		"foot.checked":       "Checked at: ",
		"foot.about":         "This site checks a certificate's digital signature, its validity period and its current status (suspension, withdrawal, cancellation, surveillance audits).",
		"foot.api":           "API documentation",
		"nf.requested":       "Certificate id you asked for:",
		"search.title":       "Search certificates",
		"search.label":       "Certificate number, organization name or USCC",
		"search.button":      "Search",
		"search.hint":        "Part of an organization name (Chinese or English) is enough; certificate numbers and USCCs must be complete.",
		"search.short":       "Type at least 2 characters (or one Chinese character).",
		"search.long":        "The search text is too long; shorten it and try again.",
		"search.noword":      "Type at least one letter, digit or Chinese character: punctuation alone cannot be searched.",
		"search.none":        "No certificate matches. Check what you typed; a certificate that cannot be found here was not registered by an issuer of this site.",
		"search.results":     "Results",
		"search.count":       "%d results",
		"search.countone":    "1 result",
		"search.countmore":   "More than %d results",
		"search.for":         "Search:",
		"search.next":        "Next page",
		"search.first":       "Back to the first page",
		"search.open":        "Open the verification page",
		"nav.verifyfile":     "Verify a file",
		"vf.title":           "Verify a certificate file",
		"vf.what":            "Upload a certificate PDF or its signed credential (a .jwt file), or paste the credential: this site reads the credential attached to the PDF, checks its digital signature strictly and shows the certificate's status now.",
		"vf.file":            "Certificate file (PDF or .jwt, at most 16 MiB)",
		"vf.token":           "Or paste the signed credential (a long text starting with eyJ)",
		"vf.button":          "Verify",
		"vf.hint":            "The file is used for this check only and is not kept. No JavaScript needed.",
		"vf.none":            "This file carries no certd credential",
		"vf.noneWhy":         "Every certificate PDF issued here carries a signed credential named credential.jwt. A new PDF made by printing or “save as” no longer has it: use the original PDF from the certification body, or scan the QR code on the certificate.",
		"vf.forged":          "The credential is not genuine",
		"watch.heading":      "Notify me when this certificate changes",
		"watch.what":         "Leave an e-mail address: when this certificate (or its successor after a renewal) is suspended, withdrawn, cancelled, expires, is reinstated or renewed, this site writes to you. You confirm first through the link in a mail; every notification has an unsubscribe link.",
		"watch.email":        "E-mail address",
		"watch.button":       "Subscribe",
		"watch.hint":         "The certification body never sees your address. No JavaScript needed.",
		"wp.sent.title":      "Check your mailbox",
		"wp.sent.text":       "If this address can receive mail, a confirmation link is on its way. The subscription starts once you open the link and confirm; the link works for 48 hours.",
		"wp.confirm.title":   "Confirm the subscription",
		"wp.confirm.text":    "Press the button to receive an e-mail whenever this certificate's status changes.",
		"wp.confirm.button":  "Confirm",
		"wp.confirmed.title": "Subscription confirmed",
		"wp.confirmed.text":  "You will receive an e-mail when this certificate's status changes; every mail has an unsubscribe link.",
		"wp.invalid.title":   "This link is not valid",
		"wp.invalid.text":    "The confirmation link is unknown, was used already or is older than 48 hours. Subscribe again from the certificate's verification page.",
		"wp.unsub.title":     "Unsubscribe",
		"wp.unsub.text":      "Press the button to stop the notifications of this subscription.",
		"wp.unsub.button":    "Unsubscribe",
		"wp.unsubbed.title":  "Unsubscribed",
		"wp.unsubbed.text":   "You will receive no more mail for this subscription.",
		"wp.back":            "Home page",
		"vf.forgedWhy":       "Its digital signature does not verify with the keys of the issuers registered here, or its content was altered. Do not rely on this document; contact the certification body named on it.",
		"err.request":        "Request id: ",
		"err.404":            "Page not found",
		"err.404.why":        "This site has no such address. If it is printed on a certificate, the certificate may be forged or the address mistyped: search for the certificate number from the home page.",
		"err.503":            "Service temporarily unavailable",
		"err.503.why":        "This site cannot read its certificate records right now, so it cannot tell whether any certificate is valid. Try again in a few seconds; until then, do not treat a certificate as valid.",
		"err.413":            "File too large",
		"err.413.why":        "The upload is larger than 16 MiB. A certificate PDF is usually under 1 MiB: upload the original PDF from the certification body.",
		"err.429":            "Too many requests",
		"err.429.why":        "Too many requests came from your network. Wait a moment and try again.",
		"err.4xx":            "The request could not be handled",
		"err.4xx.why":        "What was sent could not be read. Go back, check it and try again.",
		"err.500":            "Internal error",
		"err.500.why":        "Something went wrong on our side; nothing you did was at fault. Try again later; if it persists, report the request id below.",
		"home.title":         "Certificate verification service",
		"home.what":          "This site registers the certificates of the certification bodies below. Anyone can check, free of charge, whether a certificate is genuine and valid right now. Every certificate carries the issuer's digital signature and can be verified offline with its published keys.",
		"home.issuers":       "Certification bodies registered here",
		"home.how":           "How to verify a certificate",
		"home.how1":          "Scan the QR code on the certificate with your phone's camera: it opens the verification page on this site;",
		"home.how2":          "or type the certificate number, the organization name or its USCC in the search box above;",
		"home.how3":          "check that the address bar shows this site's domain, that the page says \u201cValid\u201d, and that the organization name matches the paper exactly.",
		"home.dev":           "Developers and bulk checks",
		"home.openapi":       "API documentation (OpenAPI)",
		"home.jwks":          "Public keys of every issuer (JWKS)",
		"home.verifyapi":     "Verdict by certificate id: GET /api/v1/verify/{id}; in bulk: POST /api/v1/verify/batch",
		"word.ok":            "passed",
		"word.failed":        "failed",
		"check.signature":    "Digital signature",
		"check.validity":     "Validity period",
		"check.revocation":   "Revocation",
		"check.suspension":   "Suspension",
		"check.surveillance": "Surveillance",
	},
}

// translate returns the text of key in lang; a missing key shows as
// itself, which the tests catch.
func translate(lang, key string) string {
	if s, ok := messages[lang][key]; ok {
		return s
	}
	return key
}

// zh reports whether lang is Chinese.
func zh(lang string) bool { return lang != "en" }

// pick returns the text for the language.
func pick(lang, zhText, enText string) string {
	if zh(lang) {
		return zhText
	}
	return enText
}

// Badge is how a status or verdict is shown: a word, an icon character
// (never the only signal) and a colour class.
type Badge struct {
	Word string
	Icon string
	// Class is ok, warn, bad, info or muted.
	Class string
}

// statusBadge shows a derived status.
func statusBadge(lang string, st cert.Status) Badge {
	switch st {
	case cert.StatusActive:
		return Badge{pick(lang, "有效", "Valid"), "✓", "ok"}
	case cert.StatusSuspended:
		return Badge{pick(lang, "暂停", "Suspended"), "!", "warn"}
	case cert.StatusWithdrawn:
		return Badge{pick(lang, "撤销", "Withdrawn"), "✕", "bad"}
	case cert.StatusCancelled:
		return Badge{pick(lang, "注销", "Cancelled"), "✕", "bad"}
	case cert.StatusExpired:
		return Badge{pick(lang, "过期", "Expired"), "✕", "bad"}
	case cert.StatusSuperseded:
		return Badge{pick(lang, "已换证", "Superseded"), "↻", "info"}
	case cert.StatusNotFound:
		return Badge{pick(lang, "未登记", "Not registered"), "✕", "bad"}
	}
	return Badge{pick(lang, "暂时无法确认", "Cannot confirm now"), "?", "muted"}
}

// reasonText says why a status changed, from the reason code of a derived
// change or the free text a certification body recorded.
func reasonText(lang, reason string) string {
	switch reason {
	case cert.ReasonSurveillanceOverdue:
		return pick(lang, "未在规定期限内通过年度监督审核", "the annual surveillance audit was not passed in time")
	case cert.ReasonSurveillanceFailed:
		return pick(lang, "监督审核未通过", "the surveillance audit failed")
	case cert.ReasonSurveillancePassed:
		return pick(lang, "监督审核通过", "the surveillance audit was passed")
	case cert.ReasonSuspensionLimit:
		return pick(lang, "暂停时间超过认证规则允许的期限", "it stayed suspended longer than the scheme allows")
	case cert.ReasonSuspensionEnded:
		return pick(lang, "暂停期满", "the suspension period ended")
	case cert.ReasonExpired:
		return pick(lang, "有效期届满", "the validity period ended")
	case "":
		return pick(lang, "未记录原因", "no reason recorded")
	}
	return "\u201c" + reason + "\u201d" // as the certification body wrote it
}

// changeReason says why a status changed, as reasonText, followed by the
// scheme's coded reason with its label in the reader's language.
func changeReason(lang string, ch cert.Change) string {
	text := reasonText(lang, ch.Reason)
	if ch.Code == nil {
		return text
	}
	label := pick(lang, firstOf(ch.Code.Label, ch.Code.LabelEn), firstOf(ch.Code.LabelEn, ch.Code.Label))
	if label == "" {
		return text + pick(lang, "（代码 "+ch.Code.Code+"）", " (code "+ch.Code.Code+")")
	}
	return text + pick(lang, "（代码 "+ch.Code.Code+"："+label+"）", " (code "+ch.Code.Code+": "+label+")")
}

// formatDay writes a calendar date: 2029年11月26日 in Chinese, 2029-11-26
// in English.
func formatDay(lang string, t time.Time) string {
	if zh(lang) {
		return strconv.Itoa(t.Year()) + "年" + strconv.Itoa(int(t.Month())) + "月" + strconv.Itoa(t.Day()) + "日"
	}
	return t.Format(cert.DateLayout)
}

// formatDate rewrites a calendar date given as DateLayout; other text is
// returned as is.
func formatDate(lang, day string) string {
	if !zh(lang) {
		return day // already 2006-01-02
	}
	if len(day) != len(cert.DateLayout) || day[4] != '-' || day[7] != '-' {
		return day
	}
	y, err1 := strconv.Atoi(day[:4])
	m, err2 := strconv.Atoi(day[5:7])
	d, err3 := strconv.Atoi(day[8:])
	if err1 != nil || err2 != nil || err3 != nil {
		return day
	}
	return strconv.Itoa(y) + "年" + strconv.Itoa(m) + "月" + strconv.Itoa(d) + "日"
}

// formatTime writes an instant in loc, with its UTC offset.
func formatTime(lang string, t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return formatDay(lang, t) + " " + t.Format("15:04") + " (UTC" + t.Format("-07:00") + ")"
}

// levelText writes a level: 三级 or Level 3.
func levelText(lang string, n int) string {
	if zh(lang) {
		return pdfLevelZh(n)
	}
	return "Level " + strconv.Itoa(n)
}
