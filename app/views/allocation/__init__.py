"""The Allocation screen: the order book, order entry, credit holds, allocation runs, backorders."""
