"""Multi-label chest X-ray findings: one independent yes/no per finding."""
import numpy as np
import torch
import torch.nn as nn
from torchvision import models

FINDINGS = ["atelectasis", "cardiomegaly", "effusion", "infiltration", "mass", "nodule", "pneumonia"]


def positive_weights(label_matrix: np.ndarray) -> torch.Tensor:
    positives = label_matrix.sum(axis=0)
    negatives = label_matrix.shape[0] - positives
    return torch.tensor(negatives / np.maximum(positives, 1), dtype=torch.float32)


class ChestNet(nn.Module):
    def __init__(self, num_findings: int):
        super().__init__()
        self.backbone = models.densenet121(weights=None)
        self.backbone.classifier = nn.Linear(self.backbone.classifier.in_features, num_findings)

    def forward(self, x):
        return self.backbone(x)


def train(loader, label_matrix, epochs=5):
    model = ChestNet(len(FINDINGS))
    criterion = nn.BCEWithLogitsLoss(pos_weight=positive_weights(label_matrix))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for _ in range(epochs):
        for images, targets in loader:
            logits = model(images)
            loss = criterion(logits, targets.float())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


@torch.no_grad()
def predict(model, images, threshold=0.5):
    probabilities = torch.sigmoid(model(images))
    return probabilities > threshold
