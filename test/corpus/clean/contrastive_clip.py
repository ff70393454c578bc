"""CLIP-style contrastive loss: similarity logits against the diagonal as class indices."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ContrastiveHead(nn.Module):
    def __init__(self, image_dim: int, text_dim: int, embed_dim: int = 256):
        super().__init__()
        self.image_proj = nn.Linear(image_dim, embed_dim)
        self.text_proj = nn.Linear(text_dim, embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(2.659))

    def forward(self, image_features, text_features):
        images = F.normalize(self.image_proj(image_features), dim=-1)
        texts = F.normalize(self.text_proj(text_features), dim=-1)
        logits = self.logit_scale.exp() * images @ texts.t()
        targets = torch.arange(logits.shape[0], device=logits.device)
        return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets)) / 2
