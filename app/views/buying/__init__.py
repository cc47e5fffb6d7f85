"""Buying screens: the replenishment worklist and requisitions (D1), POs and approvals (D2).

``app.views.buying.screen.BuyingScreen`` shows ``RecommendationsWorklist`` and
``RequisitionsView`` as tabs; each is constructed as ``Widget(ctx)``.
"""
