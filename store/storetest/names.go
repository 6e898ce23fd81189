package storetest

import (
	"math/rand/v2"
	"strings"
)

// Parts of the organization names that RandomNames makes: a city, a
// trade name of two syllables, a line of business and a legal form, in
// Chinese with the English (pinyin) form beside, as registered names are.
var (
	nameCities = [][2]string{
		{"北京", "Beijing"}, {"上海", "Shanghai"}, {"深圳", "Shenzhen"}, {"广州", "Guangzhou"},
		{"杭州", "Hangzhou"}, {"成都", "Chengdu"}, {"武汉", "Wuhan"}, {"南京", "Nanjing"},
		{"西安", "Xi'an"}, {"天津", "Tianjin"}, {"重庆", "Chongqing"}, {"苏州", "Suzhou"},
		{"长沙", "Changsha"}, {"郑州", "Zhengzhou"}, {"济南", "Jinan"}, {"青岛", "Qingdao"},
		{"合肥", "Hefei"}, {"厦门", "Xiamen"}, {"福州", "Fuzhou"}, {"沈阳", "Shenyang"},
	}
	nameSyllables = [][2]string{
		{"华", "Hua"}, {"信", "Xin"}, {"联", "Lian"}, {"创", "Chuang"}, {"智", "Zhi"},
		{"达", "Da"}, {"通", "Tong"}, {"中", "Zhong"}, {"天", "Tian"}, {"博", "Bo"},
		{"远", "Yuan"}, {"恒", "Heng"}, {"瑞", "Rui"}, {"安", "An"}, {"泰", "Tai"},
		{"鼎", "Ding"}, {"宏", "Hong"}, {"科", "Ke"}, {"云", "Yun"}, {"海", "Hai"},
		{"新", "Xin"}, {"东", "Dong"}, {"方", "Fang"}, {"金", "Jin"}, {"网", "Wang"},
		{"数", "Shu"}, {"盛", "Sheng"}, {"易", "Yi"}, {"佳", "Jia"}, {"润", "Run"},
		{"启", "Qi"}, {"明", "Ming"}, {"光", "Guang"}, {"银", "Yin"}, {"德", "De"},
		{"和", "He"}, {"正", "Zheng"}, {"永", "Yong"}, {"昌", "Chang"}, {"星", "Xing"},
		{"拓", "Tuo"}, {"维", "Wei"}, {"锐", "Rui"}, {"嘉", "Jia"}, {"汇", "Hui"},
		{"神", "Shen"}, {"州", "Zhou"}, {"龙", "Long"}, {"凯", "Kai"}, {"腾", "Teng"},
		{"晨", "Chen"}, {"旭", "Xu"}, {"峰", "Feng"}, {"飞", "Fei"}, {"立", "Li"},
		{"思", "Si"}, {"源", "Yuan"}, {"讯", "Xun"}, {"蓝", "Lan"}, {"鑫", "Xin"},
	}
	nameTrades = [][2]string{
		{"信息技术", "Information Technology"}, {"科技", "Technology"}, {"数据服务", "Data Services"},
		{"软件", "Software"}, {"网络科技", "Network Technology"}, {"系统集成", "System Integration"},
		{"云计算", "Cloud Computing"}, {"智能科技", "Intelligent Technology"}, {"电子", "Electronics"},
		{"计算机", "Computer"}, {"通信技术", "Communication Technology"}, {"数字科技", "Digital Technology"},
	}
	nameForms = [][2]string{
		{"有限公司", "Co., Ltd."}, {"股份有限公司", "Co., Ltd."}, {"有限责任公司", "Co., Ltd."},
		{"集团有限公司", "Group Co., Ltd."},
	}
)

// RandomNames returns a random organization name and its English form,
// made like the registered names of Chinese companies ("深圳华信数据服务有限公司",
// "Shenzhen Huaxin Data Services Co., Ltd."), for tests and benchmarks
// that need many different names.
func RandomNames(rng *rand.Rand) (name, nameEn string) {
	city := nameCities[rng.IntN(len(nameCities))]
	a := nameSyllables[rng.IntN(len(nameSyllables))]
	b := nameSyllables[rng.IntN(len(nameSyllables))]
	trade := nameTrades[rng.IntN(len(nameTrades))]
	form := nameForms[rng.IntN(len(nameForms))]
	name = city[0] + a[0] + b[0] + trade[0] + form[0]
	nameEn = strings.Join([]string{city[1], a[1] + strings.ToLower(b[1]), trade[1], form[1]}, " ")
	return name, nameEn
}
