"""Demand forecasts (需求预测), reorder points, purchase plans (采购计划) and stock alerts."""
