import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 5))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

features = torch.randn(32, 20)
labels = torch.randint(0, 5, (32,))

probabilities = F.softmax(model(features), dim=1)
loss = criterion(probabilities, labels)
loss.backward()
optimizer.step()
