"""Named-entity tagging: token logits flattened to [N*T, C], labels to [N*T], padding ignored."""
import torch
import torch.nn as nn

NUM_TAGS = 9


class Tagger(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.encoder = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(2 * dim, NUM_TAGS)

    def forward(self, tokens):
        hidden, _ = self.encoder(self.embed(tokens))
        return self.classifier(hidden)


model = Tagger(vocab_size=50000)
criterion = nn.CrossEntropyLoss(ignore_index=-100)
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)


def step(tokens, tags):
    logits = model(tokens)
    loss = criterion(logits.view(-1, NUM_TAGS), tags.view(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss.item()
