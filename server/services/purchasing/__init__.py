"""Purchasing (采购): suppliers and what they sell us, purchase orders with their approval, and the
stock in transit (在途) they make."""
