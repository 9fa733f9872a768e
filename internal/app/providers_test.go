package app

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/payment/standin"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Every registered method can be recorded: the database's payment_method
// type holds exactly the registry's methods (a new provider brings its
// migration).
func TestRegistryMatchesTheDatabase(t *testing.T) {
	s := newShop(t)
	var inDB []string
	if err := s.conn().QueryRow(ctx, `SELECT enum_range(NULL::payment_method)::text[]`).Scan(&inDB); err != nil {
		t.Fatal(err)
	}
	var registered []string
	for _, m := range payment.Methods() {
		registered = append(registered, string(m))
	}
	slices.Sort(inDB)
	slices.Sort(registered)
	if !slices.Equal(inDB, registered) {
		t.Fatalf("payment_method holds %v, the registry %v", inDB, registered)
	}
}

// A live shop with Kakao Pay's keys only offers Kakao Pay and refuses a
// Naver Pay order, before anything is written, naming the settings to set.
func TestKakaoOnlyLiveOffersKakao(t *testing.T) {
	s := newShop(t)
	if got := s.a.PaymentMethods(); !slices.Equal(got, payment.Methods()) {
		t.Errorf("the sandbox offers %v, want every method", got)
	}
	k := standin.NewKakao(t)
	live := func(providers map[shop.PaymentMethod]payment.Settings) *App {
		return s.open(func(c *config.Config) {
			c.Payment.Provider, c.Payment.HTTPTimeout, c.Payment.ApprovalTimeout = config.ProviderLive, 2*time.Second, time.Minute
			c.Payment.Callback.PublicURL = "http://127.0.0.1:9"
			c.Payment.Providers = providers
		})
	}
	a := live(map[shop.PaymentMethod]payment.Settings{shop.Kakao: k.Config()})
	if got := a.PaymentMethods(); !slices.Equal(got, []shop.PaymentMethod{shop.Kakao}) {
		t.Errorf("a Kakao-only live shop offers %v", got)
	}
	_, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Naver, Items: items("A:1")}, nil)
	const want = "Naver Pay is not configured for live payments: set payment.naver.client_id, payment.naver.client_secret, payment.naver.chain_id and payment.naver.partner_id"
	if err == nil || err.Error() != want || !errors.Is(err, shop.ErrInvalid) {
		t.Fatalf("a Naver order: %v, want %q", err, want)
	}
	if _, err := a.Gateway(shop.Naver); err == nil || err.Error() != want {
		t.Errorf("the Naver gateway: %v", err)
	}
	if s.stock("A") != 10 || s.count(`SELECT count(*) FROM saga`)+s.count(`SELECT count(*) FROM payment`) != 0 {
		t.Errorf("the refused order changed the database: stock %d", s.stock("A"))
	}
	if got := live(nil).PaymentMethods(); !slices.Equal(got, payment.Methods()) {
		t.Errorf("a live shop with no method configured offers %v, want every method (each says what to set)", got)
	}
}
