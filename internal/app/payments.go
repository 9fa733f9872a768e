package app

import (
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// gateways opens the payment gateways on first use.
type gateways struct {
	once   sync.Once
	ledger *pgxpool.Pool
	err    error
}

// Gateway returns the gateway for a payment method: the offline sandbox,
// every call bounded by payment.timeout.
func (a *App) Gateway(m shop.PaymentMethod) (payment.Gateway, error) {
	a.gw.once.Do(func() { a.gw.ledger, a.gw.err = payment.NewSandboxLedger(a.url, a.cfg.MaxConns) })
	if a.gw.err != nil {
		return nil, a.gw.err
	}
	sandbox := &payment.Sandbox{Method: m, DeclineOver: shop.Won(a.cfg.Payment.Sandbox.DeclineOver), Ledger: a.gw.ledger}
	return payment.WithDeadline(sandbox, a.cfg.Payment.Timeout), nil
}

func (g *gateways) close() {
	if g.ledger != nil {
		g.ledger.Close()
	}
}
