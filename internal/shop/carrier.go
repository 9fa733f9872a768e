package shop

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Carrier is a parcel carrier (택배사) a shop hands its deliveries to: its
// code, its name, the shape of its waybill (송장) numbers and where a buyer
// tracks one.
//
// Sources, read 2026-12 (no carrier's site was reachable from here, so
// the URLs are as these publish them):
//   - [DT] shlee322/delivery-tracker @3b3d63b4, packages/core/src/carriers/<code>/index.ts:
//     the codes (its carrier ids, those of tracker.delivery) and the waybill
//     checks it applies (CJ, Hanjin, Lotte);
//   - [G5] gnuboard/gnuboard5 extend/shop.extend.php (G5_DELIVERY_COMPANY,
//     2025-01-15): the tracking links a Korean shop platform gives buyers;
//   - [BL] https://7hinking.tistory.com/560 (2025-09): waybill digit counts;
//   - [AW] appsweb.kr's Korea Post help page: 우체국 numbers start with 6
//     (prepaid) or 7 (착불).
//
// Where no source gives a shape, any 8 to 20 digits are taken.
type Carrier struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	English string `json:"english"`
	Shape   string `json:"waybill"` // the waybill number, as a clerk is told it
	Track   string `json:"tracking_url"`
	aliases []string
	waybill *regexp.Regexp
	check   func(digits string) bool // a check digit, where one is documented
}

// Carriers are the carriers rabbitpay knows, the big five first.
var Carriers = []Carrier{
	{Code: "kr.cjlogistics", Name: "CJ대한통운", English: "CJ Logistics", aliases: []string{"CJ", "CJGLS", "대한통운"},
		Shape: "10 or 12 digits" /* DT */, waybill: regexp.MustCompile(`^\d{10}(\d{2})?$`),
		Track: "https://trace.cjlogistics.com/next/tracking.html?wblNo=%s"}, // [G5]
	{Code: "kr.epost", Name: "우체국택배", English: "Korea Post", aliases: []string{"우체국", "EPOST", "KPOST"},
		Shape: "13 digits starting with 6 or 7" /* BL, AW */, waybill: regexp.MustCompile(`^[67]\d{12}$`),
		Track: "https://service.epost.go.kr/trace.RetrieveDomRigiTraceList.comm?sid1=%s"}, // [DT, G5]
	{Code: "kr.hanjin", Name: "한진택배", English: "Hanjin", aliases: []string{"한진", "HANJIN"},
		Shape: "12 or 14 digits" /* DT */, waybill: regexp.MustCompile(`^\d{12}(\d{2})?$`),
		Track: "https://www.hanjin.co.kr/kor/CMS/DeliveryMgr/WaybillResult.do?mCode=MN038&schLang=KR&wblnumText2=%s"}, // [G5]
	{Code: "kr.lotte", Name: "롯데택배", English: "Lotte Global Logistics", aliases: []string{"롯데", "롯데글로벌로지스", "LOTTE", "현대택배"},
		Shape: "12 digits, the last a check digit (the first 11 mod 7)" /* DT */, waybill: regexp.MustCompile(`^\d{12}$`),
		check: mod7, Track: "https://www.lotteglogis.com/open/tracking?invno=%s"}, // [G5]
	{Code: "kr.logen", Name: "로젠택배", English: "Logen", aliases: []string{"로젠", "LOGEN", "KGB"},
		Shape: "11 digits" /* BL */, waybill: regexp.MustCompile(`^\d{11}$`),
		Track: "https://www.ilogen.com/web/personal/trace/%s"}, // [DT]
	{Code: "kr.kdexp", Name: "경동택배", English: "Kyungdong Express", aliases: []string{"경동", "KDEXP"},
		Track: "https://kdexp.com/service/delivery/etc/delivery.do?barcode=%s"}, // [G5]
	{Code: "kr.daesin", Name: "대신택배", English: "Daesin", aliases: []string{"대신", "DAESIN"},
		Shape: "13 digits" /* BL */, waybill: regexp.MustCompile(`^\d{13}$`),
		Track: "https://www.ds3211.co.kr/freight/internalFreightSearch.ht?billno=%s"}, // [G5]
	{Code: "kr.ilyanglogis", Name: "일양로지스", English: "Ilyang Logis", aliases: []string{"일양", "ILYANG"},
		Track: "https://www.ilyanglogis.com/functionality/popup_result.asp?hawb_no=%s"}, // [G5]
	{Code: "kr.chunilps", Name: "천일택배", English: "Chunil", aliases: []string{"천일", "CHUNIL"},
		Shape: "11 digits" /* BL */, waybill: regexp.MustCompile(`^\d{11}$`),
		Track: "http://www.chunil.co.kr/HTrace/HTrace.jsp?transNo=%s"}, // [G5, DT]
	{Code: "kr.kunyoung", Name: "건영택배", English: "Kunyoung", aliases: []string{"건영"},
		Shape: "10 digits" /* BL */, waybill: regexp.MustCompile(`^\d{10}$`),
		Track: "https://www.kunyoung.com/goods/goods_01.php?mulno=%s"}, // [G5]
	{Code: "kr.cupost", Name: "CU 편의점택배", English: "CU Post", aliases: []string{"CU", "CU편의점택배", "CUPOST"},
		Shape: "12 digits" /* BL */, waybill: regexp.MustCompile(`^\d{12}$`),
		Track: "https://www.cupost.co.kr/postbox/delivery/localResult.cupost?invoice_no=%s"}, // [G5]
	{Code: "kr.cvsnet", Name: "GS Postbox 편의점택배", English: "GS25 CVSnet", aliases: []string{"GS", "GS25", "CVSNET", "GS편의점택배"},
		Track: "https://www.cvsnet.co.kr/invoice/tracking.do?invoice_no=%s"}, // [G5, DT]
	{Code: "kr.coupangls", Name: "쿠팡 로지스틱스", English: "Coupang Logistics Services", aliases: []string{"쿠팡", "COUPANG", "CLS"},
		Track: "https://www.coupangls.com/web/modal/invoice/%s"}, // [DT]
}

// anyWaybill is the shape of a carrier no source gives one for.
var anyWaybill = regexp.MustCompile(`^\d{8,20}$`)

func init() {
	for i := range Carriers {
		if Carriers[i].waybill == nil {
			Carriers[i].waybill, Carriers[i].Shape = anyWaybill, "8 to 20 digits"
		}
	}
}

// mod7 is Lotte's check digit: the first eleven digits, as a number, mod 7.
func mod7(d string) bool {
	n, err := strconv.ParseInt(d[:len(d)-1], 10, 64)
	return err == nil && n%7 == int64(d[len(d)-1]-'0')
}

// OtherCarrier is how a carrier rabbitpay does not know is written.
const OtherCarrier = "other:"

// fold is how carrier names compare: no case, no spaces.
func fold(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }

// FindCarrier returns the known carrier s names (code, name, English name
// or a usual short name), ok false when there is none.
func FindCarrier(s string) (Carrier, bool) {
	f := fold(s)
	for _, c := range Carriers {
		if f == fold(c.Code) || f == fold(c.Name) || f == fold(c.English) ||
			slices.ContainsFunc(c.aliases, func(a string) bool { return f == fold(a) }) {
			return c, true
		}
	}
	return Carrier{}, false
}

// ParseCarrier reads a carrier as a clerk or a file writes it: a known
// carrier (FindCarrier), whose name it returns, or other:NAME for one
// rabbitpay does not know, which returns NAME. Anything else is refused,
// with the nearest known carrier when one is close.
func ParseCarrier(s string) (string, error) {
	s = strings.TrimSpace(s)
	if name, ok := strings.CutPrefix(s, OtherCarrier); ok {
		name = strings.TrimSpace(name)
		if c, known := FindCarrier(name); known {
			return "", InField("carrier", Invalid("%s is a carrier rabbitpay knows: write %s", Echo(name), c.Name))
		}
		if name == "" {
			return "", InField("carrier", Invalid("other: needs the carrier's name, as other:NAME"))
		}
		return name, ValidateCarrier("carrier", name)
	}
	if c, ok := FindCarrier(s); ok {
		return c.Name, nil
	}
	msg := fmt.Sprintf("carrier %s is not one rabbitpay knows", Echo(s))
	if near := nearestCarrier(s); near != "" {
		msg += fmt.Sprintf("; did you mean %s?", near)
	}
	return "", InField("carrier", Invalid("%s (write other:NAME for another; 'rabbitpay deliver carriers' lists them)", msg))
}

// CheckWaybill checks a tracking number against carrier's waybill shape,
// once hyphens and spaces are taken out, and returns it so. A carrier
// rabbitpay does not know takes any number.
func CheckWaybill(carrier, number string) (string, error) {
	c, ok := FindCarrier(carrier)
	if !ok || number == "" {
		return number, nil
	}
	d := strings.NewReplacer("-", "", " ", "").Replace(number)
	if !c.waybill.MatchString(d) || (c.check != nil && !c.check(d)) {
		return "", InField("tracking number", Invalid("%s is not a %s waybill number: %s", Echo(number), c.Name, c.Shape))
	}
	return d, nil
}

// TrackingURL is where a buyer tracks number with carrier ("" when the
// carrier is not a known one, or there is no number).
func TrackingURL(carrier, number string) string {
	c, ok := FindCarrier(carrier)
	if !ok || number == "" {
		return ""
	}
	return fmt.Sprintf(c.Track, url.PathEscape(number))
}

// nearestCarrier is the known carrier whose code or name is closest to s,
// within a third of its length; "" when none is.
func nearestCarrier(s string) string {
	f := []rune(fold(s))
	best, bestD := "", len(f)/3+1
	for _, c := range Carriers {
		for _, n := range append([]string{c.Code, c.Name, c.English}, c.aliases...) {
			if d := editDistance(f, []rune(fold(n))); d < bestD {
				best, bestD = c.Name, d
			}
		}
	}
	return best
}

func editDistance(a, b []rune) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// CheckShipment reads a carrier and a tracking number as a clerk or a file
// gives them (either may be empty): the carrier's name (ParseCarrier) and
// the number in its carrier's shape (CheckWaybill).
func CheckShipment(carrier, tracking string) (string, string, error) {
	carrier, tracking = strings.TrimSpace(carrier), strings.TrimSpace(tracking)
	if err := ValidateCarrier("tracking number", tracking); err != nil {
		return "", "", err
	}
	if carrier != "" {
		if err := ValidateCarrier("carrier", carrier); err != nil {
			return "", "", err
		}
		var err error
		if carrier, err = ParseCarrier(carrier); err != nil {
			return "", "", err
		}
	}
	tracking, err := CheckWaybill(carrier, tracking)
	return carrier, tracking, err
}
