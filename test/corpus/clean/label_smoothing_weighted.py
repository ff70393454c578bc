"""Imbalanced 5-class problem: inverse-frequency class weights as a tensor, one per class."""
import torch
import torch.nn as nn

NUM_CLASSES = 5
class_counts = torch.tensor([5000, 1200, 800, 300, 100], dtype=torch.float32)
class_weights = class_counts.sum() / (NUM_CLASSES * class_counts)

model = nn.Sequential(nn.Linear(40, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, NUM_CLASSES))
criterion = nn.CrossEntropyLoss(weight=class_weights, label_smoothing=0.05)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)


def fit(features: torch.Tensor, labels: torch.Tensor, epochs: int = 20):
    labels = labels.long()
    for _ in range(epochs):
        permutation = torch.randperm(len(features))
        for start in range(0, len(features), 256):
            index = permutation[start:start + 256]
            logits = model(features[index])
            loss = criterion(logits, labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
