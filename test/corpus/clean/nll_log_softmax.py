"""MNIST classic: the network ends in LogSoftmax and trains with NLLLoss."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


tagger_head = nn.Sequential(nn.Linear(128, 10), nn.LogSoftmax(dim=1))
nll = nn.NLLLoss()


def train(model, loader, optimizer):
    model.train()
    for data, target in loader:
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()


def head_loss(features, target):
    return nll(tagger_head(features), target)


loader = torch.utils.data.DataLoader(datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor()), batch_size=64)
model = Net()
train(model, loader, torch.optim.Adadelta(model.parameters(), lr=1.0))
