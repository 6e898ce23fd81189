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

// Parts of the names that PairedNames makes: trade names of two words of
// two characters each, from a short list, so that every pair of
// characters of a name is common and the same pair may stand twice in one
// name ("北京中科中科信息技术有限公司").
var (
	pairCities = [][2]string{
		{"北京", "Beijing"}, {"上海", "Shanghai"}, {"广州", "Guangzhou"}, {"深圳", "Shenzhen"},
		{"杭州", "Hangzhou"}, {"成都", "Chengdu"}, {"武汉", "Wuhan"}, {"南京", "Nanjing"},
		{"西安", "Xi'an"}, {"天津", "Tianjin"}, {"重庆", "Chongqing"}, {"苏州", "Suzhou"},
	}
	pairWords = [][2]string{
		{"华信", "Huaxin"}, {"中科", "Zhongke"}, {"东方", "Dongfang"}, {"新维", "Xinwei"},
		{"联创", "Lianchuang"}, {"数智", "Shuzhi"}, {"恒通", "Hengtong"}, {"博远", "Boyuan"},
		{"天成", "Tiancheng"}, {"安泰", "Antai"}, {"云图", "Yuntu"}, {"智联", "Zhilian"},
		{"合众", "Hezhong"}, {"星河", "Xinghe"}, {"正元", "Zhengyuan"}, {"金桥", "Jinqiao"},
	}
	pairTrades = [][2]string{
		{"信息技术", "Information Technology"}, {"软件", "Software"}, {"数据服务", "Data Services"},
		{"网络科技", "Network Technology"}, {"系统集成", "System Integration"}, {"电子", "Electronics"},
		{"云计算", "Cloud Computing"}, {"智能科技", "Intelligent Technology"},
	}
)

// PairedNames returns a random organization name and its English form
// made of a city, two trade words of a short list and a line of business
// ("北京中科东方信息技术有限公司", "Beijing Zhongke Dongfang Information
// Technology Co., Ltd."), as the scale benchmark names its certificates:
// every pair of characters of a text made of these words is common, and
// whether the pairs stand together is known only from where they stand.
func PairedNames(rng *rand.Rand) (name, nameEn string) {
	city := pairCities[rng.IntN(len(pairCities))]
	a := pairWords[rng.IntN(len(pairWords))]
	b := pairWords[rng.IntN(len(pairWords))]
	trade := pairTrades[rng.IntN(len(pairTrades))]
	name = city[0] + a[0] + b[0] + trade[0] + "有限公司"
	nameEn = strings.Join([]string{city[1], a[1], b[1], trade[1], "Co., Ltd."}, " ")
	return name, nameEn
}
