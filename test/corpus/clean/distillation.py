"""Knowledge distillation: the teacher's softened probabilities are soft labels for the student."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def distillation_loss(student_logits, teacher_logits, labels, temperature=4.0, alpha=0.7):
    soft_targets = F.softmax(teacher_logits / temperature, dim=-1)
    student_log_probs = F.log_softmax(student_logits / temperature, dim=-1)
    soft_loss = F.kl_div(student_log_probs, soft_targets, reduction="batchmean") * temperature**2
    hard_loss = F.cross_entropy(student_logits, labels)
    return alpha * soft_loss + (1 - alpha) * hard_loss


def soft_label_loss(student_logits, teacher_logits):
    # Cross-entropy accepts class probabilities as the target since PyTorch 1.10.
    teacher_probabilities = teacher_logits.softmax(dim=-1)
    return F.cross_entropy(student_logits, teacher_probabilities)


def distill(student: nn.Module, teacher: nn.Module, loader, epochs=3):
    teacher.eval()
    optimizer = torch.optim.AdamW(student.parameters(), lr=5e-4)
    for _ in range(epochs):
        for inputs, labels in loader:
            with torch.no_grad():
                teacher_logits = teacher(inputs)
            loss = distillation_loss(student(inputs), teacher_logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
