# smoke: offline, minutes on a CPU, a tiny model trained from scratch (not fine-tuning);
# workshop: the guide's pretrained mit-b0 fine-tuned on 100 real photos, 3-7 min in 04 on a laptop CPU;
# guide: the guide's exact recipe (a GPU advised); full: the whole training split
profile = "smoke"
checkpoint = None  # None takes the profile's value; a hub id, a local folder, or random:tiny
dataset = None  # a hub id like merve/scene_parse_150, an ADEChallengeData2016 folder, or synthetic
split = None  # like train[:50]
image_size = None  # the image processor's output size, a multiple of 32
num_train_epochs = None
max_steps = None  # -1 trains for num_train_epochs
learning_rate = None
batch_size = None
seed = None
output_dir = None  # the trained model; checkpoints go to <output_dir>-checkpoints
push_to_hub = False  # needs a Hugging Face token, see notebook 04
resume = False  # continue training from the last complete checkpoint
fast = False  # False runs the guide's code; True takes the kit's faster path, see Under the hood in 04
