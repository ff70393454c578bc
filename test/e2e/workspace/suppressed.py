import torch
import torch.nn as nn

criterion = nn.CrossEntropyLoss()
logits = torch.randn(4, 3)
targets = torch.tensor([0, 2, 1, 0])
# The double softmax is deliberate here (a demo of the suppression comment).
loss = criterion(torch.softmax(logits, dim=1), targets)  # loss-lens: ignore[softmax-before-cross-entropy]
# Not suppressed: reported, which also shows that the file was analysed.
loss_again = criterion(torch.softmax(logits, dim=1), targets)
