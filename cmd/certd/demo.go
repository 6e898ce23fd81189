package main

import (
	"context"
	"fmt"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// demoCertificate is one sample of --demo: a request, then the actions
// that bring it to the status it shows.
type demoCertificate struct {
	name, nameEn, uscc17 string
	scheme, category     string
	level                int
	monthsAgo            int
	actions              func(d demoDates) []demoAction
}

type demoAction struct {
	action string
	req    issuer.ActionRequest
}

// demoDates gives dates relative to the certificate's start.
type demoDates struct{ from time.Time }

func (d demoDates) month(n int) string { return d.from.AddDate(0, n, 5).Format(cert.DateLayout) }

var demoCertificates = []demoCertificate{
	{"北京示例科技有限公司", "Beijing Example Technology Co., Ltd.", "91110108MA0123456", "itss", "运行维护", 3, 0, nil},
	{"杭州范例云计算有限公司", "Hangzhou Example Cloud Computing Co., Ltd.", "91330106MA2CDEFG0", "itss", "云计算", 4, 10, func(d demoDates) []demoAction {
		return []demoAction{{issuer.ActionSurveillance, issuer.ActionRequest{Date: d.month(9), Result: issuer.ResultPassed, AuditRef: "SA-2026-0117", Reason: "first surveillance audit"}}}
	}},
	{"上海样例信息技术有限公司", "Shanghai Sample Information Technology Co., Ltd.", "91310115MA1H23456", "itss", "咨询设计", 2, 2, func(demoDates) []demoAction {
		return []demoAction{{issuer.ActionSuspend, issuer.ActionRequest{Reason: "应获证组织申请暂停 (suspended at the holder's request)"}}}
	}},
	{"广州演示数据中心有限公司", "Guangzhou Demo Data Centre Co., Ltd.", "91440101MA5CXY812", "itss", "数据中心", 3, 13, nil}, // window closed a month ago: suspended, surveillance overdue
	{"深圳示范软件有限公司", "Shenzhen Model Software Co., Ltd.", "91440300MA5F00001", "itss", "运行维护", 1, 5, func(demoDates) []demoAction {
		return []demoAction{{issuer.ActionWithdraw, issuer.ActionRequest{Reason: "认证证书被冒用 (misuse of the certificate)"}}}
	}},
	{"成都样本网络有限公司", "Chengdu Sample Network Co., Ltd.", "91510100MA6C00002", "itss", "运行维护", 2, 6, func(demoDates) []demoAction {
		return []demoAction{{issuer.ActionCancel, issuer.ActionRequest{Reason: "获证组织申请注销 (cancelled at the holder's request)"}}}
	}},
	{"南京旧例信息有限公司", "Nanjing Former Example Information Co., Ltd.", "91320100MA1M00003", "itss", "运行维护", 3, 37, func(d demoDates) []demoAction {
		return []demoAction{
			{issuer.ActionSurveillance, issuer.ActionRequest{Date: d.month(10), Result: issuer.ResultPassed, Reason: "first surveillance audit"}},
			{issuer.ActionSurveillance, issuer.ActionRequest{Date: d.month(22), Result: issuer.ResultPassed, Reason: "second surveillance audit"}},
		}
	}},
	{"武汉修订科技有限公司", "Wuhan Revision Technology Co., Ltd.", "91420100MA4K00004", "itss", "运行维护", 3, 1, func(demoDates) []demoAction {
		level := 2
		return []demoAction{{issuer.ActionRevise, issuer.ActionRequest{Reason: "复评后调整级别 (level changed after re-assessment)", Level: &level}}}
	}},
	{"西安质量管理咨询有限公司", "Xi'an Quality Management Consulting Co., Ltd.", "91610100MA6W00005", "iso17021", "", 0, 3, nil},
}

// demoLink names a --demo certificate for the first-start message.
type demoLink struct {
	Status cert.Status
	Name   string
	URL    string
}

// seedDemo issues the --demo certificates, one in every status, and
// returns their verification links.
func (m *Main) seedDemo(ctx context.Context, admin cert.Principal) ([]demoLink, error) {
	now := m.Now()
	var links []demoLink
	for _, d := range demoCertificates {
		check, err := cert.USCCCheckChar(d.uscc17)
		if err != nil {
			return nil, fmt.Errorf("demo %s: %w", d.name, err)
		}
		from := now.AddDate(0, -d.monthsAgo, 0)
		req := issuer.Request{
			Issuer: DefaultIssuer, Scheme: d.scheme, Category: d.category, Level: d.level,
			Standard:  map[string]string{"itss": "GB/T 28827.1-2022", "iso17021": "GB/T 19001-2016 / ISO 9001:2015"}[d.scheme],
			Scope:     map[string]string{"itss": "信息系统运行维护服务", "iso17021": "管理咨询服务"}[d.scheme],
			ScopeEn:   map[string]string{"itss": "IT operation and maintenance services", "iso17021": "Management consulting services"}[d.scheme],
			ValidFrom: from.Format(cert.DateLayout), AssessmentBody: "Default Certification Body",
			Organization: cert.Organization{Name: d.name, NameEn: d.nameEn, USCC: d.uscc17 + string(check), Address: "中国", Country: "CN"},
		}
		c, _, err := m.Issuer.Issue(ctx, admin, req, "demo:"+d.uscc17)
		if err != nil {
			return nil, fmt.Errorf("demo %s: %w", d.name, err)
		}
		if d.actions != nil {
			for _, a := range d.actions(demoDates{from: c.ValidFrom}) {
				if _, err := m.Issuer.Act(ctx, admin, c.ID, a.action, a.req, 0); err != nil {
					return nil, fmt.Errorf("demo %s: %s: %w", d.name, a.action, err)
				}
			}
			// As the actions left it (a renewal or revision answers the
			// new certificate; this is the one they replaced).
			if c, err = m.Issuer.Certificate(ctx, admin, c.ID); err != nil {
				return nil, fmt.Errorf("demo %s: %w", d.name, err)
			}
		}
		links = append(links, demoLink{Status: m.Issuer.StatusOf(c).Status, Name: d.name, URL: cert.VerifyURL(m.Config.PublicURL, c.ID)})
	}
	return links, nil
}
