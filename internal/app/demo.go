package app

import (
	"context"

	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// DemoDatabase is the database `rabbitpay demo` recreates on every run.
const DemoDatabase = "rabbitpay_demo"

// OpenDemo starts the embedded cluster under cfg.DataDir, recreates the demo
// database on it and opens it, migrated.
func OpenDemo(ctx context.Context, cfg *config.Config) (*App, error) {
	cluster, err := embedded(cfg)
	if err != nil {
		return nil, err
	}
	if err := cluster.Ensure(ctx); err != nil {
		return nil, err
	}
	if err := postgres.RecreateDatabase(ctx, cluster.URL("postgres"), DemoDatabase); err != nil {
		return nil, err
	}
	demoCfg := *cfg
	demoCfg.DatabaseURL = cluster.URL(DemoDatabase)
	demoCfg.DatabaseReadURL = "" // a read URL is the shop's replica, not the demo's
	return Open(ctx, &demoCfg)
}

// DemoCatalogue is the small Korean sample catalogue the demo loads.
var DemoCatalogue = []shop.Product{
	{SKU: "RBT-DOLL", Name: "토끼 인형", Price: 12000, StockQuantity: 5},
	{SKU: "CARROT-1KG", Name: "제주 당근 1kg", Price: 4500, StockQuantity: 40},
	{SKU: "HANBOK-S", Name: "아동 한복 (S)", Price: 89000, StockQuantity: 3},
	{SKU: "TEA-GREEN", Name: "보성 녹차 티백 50개입", Price: 15800, StockQuantity: 25},
	{SKU: "MUG-RABBIT", Name: "Rabbit mug 머그컵", Price: 9900, StockQuantity: 12},
	{SKU: "KIMCHI-5KG", Name: "포기김치 5kg", Price: 1250000, StockQuantity: 8},
}

// DemoCustomer is the demo's customer.
var DemoCustomer = shop.Customer{
	Name:    "김토끼",
	Address: &shop.Address{ZipCode: "04524", Line1: "서울특별시 중구 세종대로 110", Line2: "3층"},
}
