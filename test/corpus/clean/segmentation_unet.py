"""Semantic segmentation: per-pixel cross-entropy on [N, C, H, W] logits against [N, H, W] class maps."""
import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 21
IGNORE = 255


class TinyUNet(nn.Module):
    def __init__(self, num_classes: int):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.bottom = nn.Sequential(nn.Conv2d(32, 64, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(64, 32, 2, stride=2)
        self.head = nn.Conv2d(64, num_classes, 1)

    def forward(self, x):
        skip = self.down(x)
        x = self.up(self.bottom(self.pool(skip)))
        return self.head(torch.cat([x, skip], dim=1))


def train_step(model, optimizer, images, masks):
    logits = model(images)
    loss = F.cross_entropy(logits, masks.long(), ignore_index=IGNORE)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def mean_iou(model, images, masks):
    predictions = model(images).argmax(dim=1)
    valid = masks != IGNORE
    ious = []
    for c in range(NUM_CLASSES):
        intersection = ((predictions == c) & (masks == c) & valid).sum()
        union = (((predictions == c) | (masks == c)) & valid).sum()
        if union > 0:
            ious.append((intersection / union).item())
    return sum(ious) / len(ious)
