export { decodeImage, readImageFile, sniffFormat, type RgbImage } from './decode.js';
export { centerCrop, resizeBilinear, shorterSideSize } from './resize.js';
export { cropForModel, imageToInput, loadImageCrop, loadImageInput, normalize } from './preprocess.js';
export { listImages } from './folder.js';
