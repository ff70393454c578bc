"""CIFAR-10 with a ResNet-18: cross-entropy on logits, softmax only for reporting."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.utils.data import DataLoader
from torchvision import transforms

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
transform = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor()])
train_set = torchvision.datasets.CIFAR10("data", train=True, download=True, transform=transform)
test_set = torchvision.datasets.CIFAR10("data", train=False, download=True, transform=transforms.ToTensor())
train_loader = DataLoader(train_set, batch_size=128, shuffle=True)
test_loader = DataLoader(test_set, batch_size=256)

model = torchvision.models.resnet18(num_classes=10).to(device)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=30)

for epoch in range(30):
    model.train()
    for images, labels in train_loader:
        images, labels = images.to(device), labels.to(device)
        logits = model(images)
        loss = criterion(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    scheduler.step()

    model.eval()
    correct, confidence = 0, 0.0
    with torch.no_grad():
        for images, labels in test_loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            probabilities = F.softmax(logits, dim=1)
            confidence += probabilities.max(dim=1).values.sum().item()
            correct += (logits.argmax(dim=1) == labels).sum().item()
    print(f"epoch {epoch}: accuracy {correct / len(test_set):.3f}, mean confidence {confidence / len(test_set):.3f}")
