"""Multi-label tagging of product photos: each image may carry several of 20 tags.

Run: python train_multilabel.py --data ./photos --epochs 10
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.preprocessing import MultiLabelBinarizer
from torch.utils.data import DataLoader, Dataset
from torchvision import models, transforms
from torchvision.io import read_image

TAGS = [
    "outdoor", "indoor", "person", "animal", "vehicle", "food", "text", "night", "water", "building",
    "plant", "sky", "sport", "furniture", "screen", "clothing", "toy", "tool", "logo", "art",
]


class PhotoTags(Dataset):
    def __init__(self, records, transform):
        self.paths = [path for path, _ in records]
        binarizer = MultiLabelBinarizer(classes=TAGS)
        self.targets = torch.tensor(binarizer.fit_transform([tags for _, tags in records]))
        self.transform = transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        image = self.transform(read_image(self.paths[index]).float() / 255)
        return image, self.targets[index]


def build_model(num_tags):
    backbone = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    backbone.fc = nn.Linear(backbone.fc.in_features, num_tags)
    return backbone


def train_one_epoch(model, loader, optimizer, device):
    criterion = nn.CrossEntropyLoss()
    model.train()
    total = 0.0
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device)
        logits = model(images)
        loss = criterion(logits, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@torch.no_grad()
def evaluate(model, loader, device):
    model.eval()
    bce = nn.BCELoss()
    losses, hits, count = [], 0, 0
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device).float()
        probabilities = torch.sigmoid(model(images))
        losses.append(bce(probabilities, targets).item())
        hits += ((probabilities > 0.5) == targets.bool()).sum().item()
        count += targets.numel()
    return sum(losses) / len(losses), hits / count


def confidence(logits):
    # Mean log-confidence of the top tag, logged for the dashboard.
    return torch.log(F.softmax(logits, dim=1)).max(dim=1).values.mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    transform = transforms.Compose([transforms.Resize((224, 224)), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    records = torch.load(f"{args.data}/records.pt")
    train_loader = DataLoader(PhotoTags(records["train"], transform), batch_size=64, shuffle=True)
    val_loader = DataLoader(PhotoTags(records["val"], transform), batch_size=128)

    model = build_model(len(TAGS)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    for epoch in range(args.epochs):
        train_loss = train_one_epoch(model, train_loader, optimizer, device)
        val_loss, val_accuracy = evaluate(model, val_loader, device)
        print(f"epoch {epoch}: train {train_loss:.4f}  val {val_loss:.4f}  acc {val_accuracy:.3f}")


if __name__ == "__main__":
    main()
