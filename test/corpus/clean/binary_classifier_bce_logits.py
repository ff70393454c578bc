"""Fraud detection: one logit per transaction, BCE-with-logits against float 0/1 targets of the same shape."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class FraudNet(nn.Module):
    def __init__(self, num_features: int):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(num_features, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())
        self.out = nn.Linear(32, 1)

    def forward(self, x):
        return self.out(self.body(x)).squeeze(-1)


def train(model, loader, fraud_rate: float, epochs=10):
    pos_weight = torch.tensor([(1 - fraud_rate) / fraud_rate])
    criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for features, is_fraud in loader:
            logits = model(features)
            loss = criterion(logits, is_fraud.float())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def focal_loss(logits, targets, gamma=2.0):
    probabilities = torch.sigmoid(logits)
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = probabilities * targets + (1 - probabilities) * (1 - targets)
    return ((1 - p_t) ** gamma * bce).mean()
