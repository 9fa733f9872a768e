package app

import (
	"context"
	"io"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// The store as the use cases see it: one narrow interface per group of use
// cases, named for what that group does with it. *postgres.Store implements
// them all and Open wires the one value into each field of App; a use case
// shows by the field it calls which part of the store it depends on.

// catalogueStore is what changes products: register, update, retire, delete, import.
type catalogueStore interface {
	CreateProduct(ctx context.Context, p shop.Product) (shop.Product, error)
	UpdateProduct(ctx context.Context, ref shop.ProductRef, patch shop.ProductPatch) (shop.Product, error)
	SetRetired(ctx context.Context, ref shop.ProductRef, retired bool) (shop.Product, error)
	DeleteProduct(ctx context.Context, ref shop.ProductRef) (shop.Product, error)
	ImportProducts(ctx context.Context, rd *shop.CatalogueReader, opt shop.ImportOptions) (shop.ImportSummary, error)
}

// customerBook is what changes customers and their address books.
type customerBook interface {
	CreateCustomer(ctx context.Context, c shop.Customer, passwordHash string) (shop.Customer, error)
	UpdateCustomer(ctx context.Context, id int64, change func(*shop.Customer) error, passwordHash string) (shop.Customer, error)
	AddAddress(ctx context.Context, a shop.BookAddress) (shop.BookAddress, error)
	Addresses(ctx context.Context, customerID int64) ([]shop.BookAddress, error)
	SetDefaultAddress(ctx context.Context, id int64) (shop.BookAddress, error)
	RemoveAddress(ctx context.Context, id int64) (shop.BookAddress, error)
}

// cartStore keeps the customers' carts: next decides a line's new quantity
// under its lock (shop.CheckCartQuantity).
type cartStore interface {
	Cart(ctx context.Context, customerID int64) (shop.Cart, error)
	UpdateCartQuantity(ctx context.Context, customerID int64, productRef shop.ProductRef,
		next func(p shop.Product, current int64) (int64, error)) error
	RemoveFromCart(ctx context.Context, customerID int64, productRef shop.ProductRef) error
	ClearCart(ctx context.Context, customerID int64) (int64, error)
	CartLines(ctx context.Context, customerID int64, dest *shop.Destination) ([]shop.Line, *shop.ShipTo, error)
}

// reads is what lists and shows read; a read replica serves them too (reader).
type reads interface {
	GetProduct(ctx context.Context, ref shop.ProductRef) (shop.Product, error)
	ListProducts(ctx context.Context, o shop.ListOptions) (shop.Page[shop.Product], error)
	ExportProducts(ctx context.Context, w io.Writer, f shop.CatalogueFormat) (int64, error)
	GetCustomer(ctx context.Context, id int64) (shop.Customer, error)
	ListCustomers(ctx context.Context, o shop.ListOptions) (shop.Page[shop.Customer], error)
	GetOrder(ctx context.Context, id int64) (shop.Order, error)
	ListOrders(ctx context.Context, f shop.OrderFilter, o shop.ListOptions) (shop.Page[shop.Order], error)
	OrderIDByUUID(ctx context.Context, orderUUID string) (int64, error)
	OrderLabels(ctx context.Context, ids []int64) (map[int64]postgres.OrderLabel, error)
	GetSaga(ctx context.Context, uuid string) (shop.SagaRecord, error)
	ListSagas(ctx context.Context, states []shop.SagaState, o shop.ListOptions) (shop.Page[shop.SagaRecord], error)
	GetPayment(ctx context.Context, ref string) (shop.PaymentDetail, error)
	ListPayments(ctx context.Context, f shop.PaymentFilter, o shop.ListOptions) (shop.Page[shop.Payment], error)
	GetDelivery(ctx context.Context, id int64) (shop.Delivery, error)
	ListDeliveries(ctx context.Context, f shop.DeliveryFilter, o shop.ListOptions) (shop.Page[shop.Delivery], error)
	ListNotifications(ctx context.Context, f shop.NotificationFilter, o shop.ListOptions) (shop.Page[shop.Notification], error)
}

// sagaStore is what the order saga, cancel, refund and recover write and
// read besides what reads has: what a saga starts from, and the saga log
// that starting or taking a saga over hands out (a *postgres.SagaLog, which
// the saga then drives as a sagaLog).
type sagaStore interface {
	ResolveItems(ctx context.Context, customerID int64, items []shop.ItemRequest, dest *shop.Destination) ([]shop.Line, *shop.ShipTo, error)
	IdempotentOrder(ctx context.Context, key string) (uuid, hash string, err error)
	StartSaga(ctx context.Context, r *shop.SagaRecord, key, requestHash string, ev shop.SagaEvent) (*postgres.SagaLog, error)
	AcquireSaga(ctx context.Context, uuid string, states []shop.SagaState) (*postgres.SagaLog, shop.SagaRecord, error)
	RecordFailedStart(ctx context.Context, r *shop.SagaRecord, cause string, ev shop.SagaEvent) error
	OrderSnapshot(ctx context.Context, id int64) (shop.OrderSnapshot, error)
	GetRefundByKey(ctx context.Context, key string) (shop.Refund, error)
	UnfinishedRefunds(ctx context.Context) ([]shop.Refund, error)
	RecordCalls(ctx context.Context, uuid string, calls []shop.PaymentCall) error
}

// sagaLog is the saga's durability: one process's ownership of one order's
// saga, fenced by its owner token. Every write commits the saga's change
// together with its log entry and the provider calls made since the last
// one, after checking that the saga was not taken over (shop.ErrFenced);
// a write whose outcome is unknown (the connection lost mid-commit) is
// resolved before it returns. Placement, recovery, cancel and refund make
// every change of an order's saga through it.
type sagaLog interface {
	OrderUUID() string
	Load(ctx context.Context) (shop.SagaRecord, error)
	// The lease: renewed while the owner waits, given back early on exit.
	Renew(ctx context.Context) error
	Yield(ctx context.Context) error
	// RecordCall notes a provider call for the next write.
	RecordCall(c shop.PaymentCall)

	// Forward: the payment's request and approval, then the order.
	RecordPending(ctx context.Context, providerRef, approvalURL string, ev shop.SagaEvent) error
	RecordApproval(ctx context.Context, token string, ev shop.SagaEvent) error
	CreateOrder(ctx context.Context, r *shop.SagaRecord, providerTxID string, evs []shop.SagaEvent) (shop.CreatedOrder, error)

	// Backward: the failure, the payment's settlement, the stock, the end.
	MarkCompensating(ctx context.Context, cause string, declined *shop.PaymentOutcome, evs []shop.SagaEvent) error
	SettlePayment(ctx context.Context, o shop.PaymentOutcome, kind shop.NotificationKind, ev shop.SagaEvent) error
	RestoreStock(ctx context.Context, ev shop.SagaEvent) (int, error)
	Finish(ctx context.Context, state shop.SagaState, cause string, evs []shop.SagaEvent) error

	// After the order: cancel and partial refunds.
	BeginCancel(ctx context.Context, orderID int64, ev shop.SagaEvent) (done bool, err error)
	FinishCancel(ctx context.Context, ev shop.SagaEvent) error
	BeginRefund(ctx context.Context, orderID int64, key, reason string, lines []shop.Line, ev shop.SagaEvent) (f shop.Refund, existing bool, err error)
	FinishRefund(ctx context.Context, f shop.Refund, txID string, ev shop.SagaEvent) error
	FailRefund(ctx context.Context, f shop.Refund, cause string, ev shop.SagaEvent) error
}

var _ sagaLog = (*postgres.SagaLog)(nil)

// deliveryStore moves deliveries and says where they go: decide plans the
// change from the orders' snapshots, taken under their locks
// (shop.PlanStart, shop.PlanUpdate); check decides whether an order's
// destination may change (shop.CheckShipToChange).
type deliveryStore interface {
	UpdateDeliveries(ctx context.Context, deliveryIDs, orderIDs []int64,
		decide func([]shop.OrderSnapshot) (shop.DeliveryPlan, error)) ([]shop.Delivery, error)
	SetShipTo(ctx context.Context, orderID int64, dest shop.Destination, check func(shop.OrderSnapshot) error) error
}

// outbox is the notification outbox a sender claims from.
type outbox interface {
	ClaimNotifications(ctx context.Context, size int, hold time.Duration) (postgres.Claim, error)
	RecordSends(ctx context.Context, token string, outcomes []postgres.SendOutcome) (map[int64]bool, error)
	Listen(ctx context.Context, ttl time.Duration) (*postgres.Listener, error)
	NextDue(ctx context.Context) (*time.Time, error)
	RetryDead(ctx context.Context) (int64, error)
	RetryNotification(ctx context.Context, id int64) (shop.Notification, error)
}

// retention removes old operational records (db prune).
type retention interface {
	PruneCut(ctx context.Context, age time.Duration) (time.Time, error)
	CountPrunable(ctx context.Context, kind string, cut time.Time) (int64, error)
	PruneBatch(ctx context.Context, kind string, cut time.Time, limit int) (int64, error)
}

// backupState is what the backup and the placement preflight ask the server.
type backupState interface {
	BackupHolds(ctx context.Context, application string, wait time.Duration) (bool, error)
	OrderCount(ctx context.Context) (n int64, newest *time.Time, err error)
	ReceiverState(ctx context.Context, application string) (*postgres.Receiver, error)
	SlotRetained(ctx context.Context, slot string) (int64, error)
	WriteState(ctx context.Context, receiver string, ids []int64) (postgres.WriteState, map[int64]postgres.Stock, error)
}

// stores is the store wired into every field: *postgres.Store.
type stores interface {
	catalogueStore
	customerBook
	cartStore
	reads
	sagaStore
	deliveryStore
	outbox
	retention
	backupState
}

var _ stores = (*postgres.Store)(nil)

// wire sets each use-case group's view of the store.
func (a *App) wire(s stores) {
	a.catalogue, a.customers, a.carts, a.primary, a.sagas = s, s, s, s, s
	a.deliveries, a.outbox, a.retention, a.backups = s, s, s, s
}
