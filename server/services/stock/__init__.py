"""Stock (库存): the inventory ledger (the only writer of quants and stock moves), stock by codes
for the desk, the catalogue, the layout and stock files."""
