"""The conversion model: features, training, explanations, versioned artifacts, serving.

One job per module:

    features      what the model reads: names, kinds, definitions (the one source of truth)
    encoding      columns → the numeric matrix every candidate sees (one-hot categoricals)
    data          the features mart through the warehouse back-end, Arrow → numpy
    sampling      the mart sampled down to the caps in the warehouse, stratified by label
    split         time-aware holdout, stratified folds, seeded samples
    candidates    logistic regression, random forest, XGBoost: how each is fitted
    models        the fitted models as served: XGBoost boosters and JSON linear models
    metrics       ROC-AUC, PR-AUC, log loss, Brier, threshold metrics, lift, calibration
    leakage       refuses features that give the label away on their own
    explain       SHAP values per feature, global summary, per-row reasons
    registry      artifact layout under models/<name>/, LATEST, history
    promotion     champion/challenger gates and the compare-and-swap of LATEST
    fitting       fit every candidate, score it on the holdout, explain the winner (no I/O)
    documents     the version's files: model, metrics, SHAP summary, model card
    training_run  one training run, end to end, claimed and recorded once per run id
    serving       the champion of a serving instance, reloaded when LATEST moves
    payload       validation of prediction requests

Importing any of them is cheap: xgboost and scikit-learn are imported inside the functions that
use them, so serving never loads scikit-learn and loads xgboost on the first prediction only.
"""
