from pathlib import Path

import torch

from src.train import FEATURES, load, train

DATA = Path(__file__).parent.parent / "data" / "reference.csv"


def test_features_are_standardised():
    features, labels = load(DATA)
    assert features.shape == (len(labels), len(FEATURES))
    assert torch.allclose(features.mean(dim=0), torch.zeros(len(FEATURES)), atol=1e-5)


def test_a_short_run_learns_the_cultivars():
    features, labels = load(DATA)
    config = {
        "seed": 7,
        "learning_rate": 0.01,
        "batch_size": 16,
        "gradient_accumulation_steps": 1,
        "epochs": 5,
    }
    model = train(config, features, labels)
    accuracy = (model(features).argmax(dim=1) == labels).float().mean().item()
    assert accuracy > 0.9
