"""Text classifier: the loss sees logits; softmax appears only after it, for calibration and top-k output."""
import torch
import torch.nn as nn


class BagOfWords(nn.Module):
    def __init__(self, vocab_size, num_classes, dim=64):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, dim)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, tokens, offsets):
        return self.classifier(self.embedding(tokens, offsets))


def step(model, batch, optimizer, criterion):
    tokens, offsets, labels = batch
    logits = model(tokens, offsets)
    loss = criterion(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    probabilities = logits.detach().softmax(dim=-1)
    top_probability, top_class = probabilities.max(dim=-1)
    accuracy = (top_class == labels).float().mean().item()
    return loss.item(), accuracy, top_probability.mean().item()


def expected_calibration_error(logits, labels, bins=10):
    probabilities = torch.softmax(logits, dim=1)
    confidence, prediction = probabilities.max(dim=1)
    correct = prediction.eq(labels).float()
    edges = torch.linspace(0, 1, bins + 1)
    error = torch.zeros(())
    for low, high in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            error += in_bin.float().mean() * (confidence[in_bin].mean() - correct[in_bin].mean()).abs()
    return error.item()


model = BagOfWords(vocab_size=30000, num_classes=4)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
