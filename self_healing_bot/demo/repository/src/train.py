"""Train the wine cultivar classifier (a small MLP) from configs/train.yaml."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

FEATURES = [
    "alcohol",
    "malic_acid",
    "ash",
    "alcalinity_of_ash",
    "magnesium",
    "total_phenols",
    "flavanoids",
    "nonflavanoid_phenols",
    "proanthocyanins",
    "color_intensity",
    "hue",
    "od280_od315_of_diluted_wines",
    "proline",
]


def load(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    frame = pd.read_csv(path)
    features = frame[FEATURES].to_numpy(dtype=np.float)
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    return torch.from_numpy(features), torch.from_numpy(frame["cultivar"].to_numpy())


def train(config: dict, features: torch.Tensor, labels: torch.Tensor) -> torch.nn.Module:
    torch.manual_seed(config["seed"])
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = torch.nn.Sequential(
        torch.nn.Linear(len(FEATURES), 64), torch.nn.ReLU(), torch.nn.Linear(64, 3)
    ).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["learning_rate"])
    batches = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(features, labels),
        batch_size=config["batch_size"],
        shuffle=True,
    )
    steps = config["gradient_accumulation_steps"]
    for _ in range(config["epochs"]):
        for index, (batch, target) in enumerate(batches):
            loss = torch.nn.functional.cross_entropy(model(batch.to(device)), target.to(device))
            (loss / steps).backward()
            if (index + 1) % steps == 0:
                optimizer.step()
                optimizer.zero_grad()
    return model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, default=Path("configs/train.yaml"))
    arguments = parser.parse_args()
    config = yaml.safe_load(arguments.config.read_text())
    features, labels = load(Path("data/reference.csv"))
    model = train(config, features, labels)
    with torch.no_grad():
        accuracy = (model(features).argmax(dim=1) == labels).float().mean().item()
    Path("artifacts").mkdir(exist_ok=True)
    torch.save(model.state_dict(), "artifacts/model.pt")
    Path("metrics.json").write_text(json.dumps({"eval": {"accuracy": round(accuracy, 3)}}))


if __name__ == "__main__":
    main()
